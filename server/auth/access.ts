// Per-listener access policy, enforced before any route runs:
//   open                writes allowed (loopback listeners)
//   users               writes need a user from `berth user`; GET /v2/ checks given credentials
//   off                 pull-only: every write and every method-override attempt is DENIED
//   client-certificate  the TLS handshake demanded a certificate from Berth's client CA; a revoked one is DENIED
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { TLSSocket } from 'node:tls'
import { OciError } from '../registry/errors'
import type { Pki } from '../tls/pki'
import { basicCredentials, type Users } from './users'

export type WritePolicy = 'open' | 'users' | 'off' | 'client-certificate'

export interface AccessOptions {
  writes: WritePolicy
  /** sends HSTS: the listener is TLS */
  tls: boolean
  users?: Users
  pki?: Pki
}

declare module 'fastify' {
  interface FastifyRequest {
    /** who made the request: a user name, `cert:<name>`, or undefined when anonymous */
    identity?: string
    /** whether this client may write here: only such clients keep content fresh for GC (a HEAD) */
    mayWrite: boolean
  }
}

const READ_METHODS = new Set(['GET', 'HEAD'])
const METHOD_OVERRIDES = ['x-http-method-override', 'x-http-method', 'x-method-override']
const CHALLENGE = 'Basic realm="Berth registry", charset="UTF-8"'

export const accessPolicy = fp(async (app: FastifyInstance, options: AccessOptions) => {
  app.decorateRequest('identity', undefined)
  app.decorateRequest('mayWrite', false)

  app.addHook('onRequest', async (request, reply) => {
    if (options.tls) reply.header('Strict-Transport-Security', 'max-age=31536000')
    const isRead = READ_METHODS.has(request.method)

    // the version check reveals nothing: a revoked certificate passes it, so that the refusal
    // comes on the real request, whose error message clients print (a refused ping reads "403")
    const versionCheck = request.url === '/v2/' || request.url === '/v2'
    if (options.writes === 'client-certificate' && !versionCheck) request.identity = clientIdentity(request, options.pki!)
    request.mayWrite = options.writes === 'open' || options.writes === 'client-certificate'

    if (options.writes === 'off') {
      if (!isRead) throw new OciError('DENIED', 'this listener is pull-only').because('pull-only')
      if (METHOD_OVERRIDES.some((h) => request.headers[h] !== undefined)) {
        throw new OciError('DENIED', 'method overrides are refused on a pull-only listener').because('pull-only')
      }
    }

    if (options.writes === 'users') {
      // clients answer a Basic challenge with empty credentials when they have none: anonymous
      const given = basicCredentials(request.headers.authorization)
      const credentials = given && (given.name !== '' || given.password !== '') ? given : undefined
      // GET /v2/ is where clients log in: it checks credentials, and asks for them when absent
      const loginCheck = versionCheck
      if (credentials) {
        if (!(await options.users!.verify(credentials.name, credentials.password))) {
          throw new OciError('UNAUTHORIZED', 'wrong user name or password').withHeaders({ 'WWW-Authenticate': CHALLENGE }).because('wrong-password')
        }
        request.identity = credentials.name
        request.mayWrite = true
      } else if (!isRead || loginCheck) {
        // the login probe without credentials is how every client starts: not a failure to show
        const refusal = new OciError('UNAUTHORIZED', 'log in to push: berth user add NAME, then docker/podman login').withHeaders({
          'WWW-Authenticate': CHALLENGE,
        })
        throw loginCheck ? refusal : refusal.because('login-required')
      }
    }
  })
})

function clientIdentity(request: FastifyRequest, pki: Pki): string {
  const socket = request.raw.socket as TLSSocket
  const certificate = socket.getPeerCertificate?.()
  if (!socket.authorized || !certificate?.serialNumber) throw new OciError('UNAUTHORIZED', 'a client certificate from Berth is required').because('client-certificate-missing')
  if (pki.isRevoked(certificate.serialNumber)) {
    const serial = certificate.serialNumber.toLowerCase()
    throw new OciError('DENIED', `client certificate ${serial} was revoked`)
      .withMessage(`client certificate revoked (serial ${serial}): issue a new one with berth cert client, or berth trust install`)
      .because('revoked')
  }
  return `cert:${certificate.subject?.CN ?? certificate.serialNumber}`
}
