// Per-listener access policy, enforced before any route runs. The listener's write policy:
//   open                anyone may do anything (loopback listeners); no rules apply
//   users               the access rules decide; users sign in with a token (default) or Basic
//   off                 pull-only: every write and method-override attempt is DENIED; pulls per the rules
//   client-certificate  the handshake demanded a certificate from Berth's client CA; the rules decide for cert:NAME
//
// With `auth: 'token'` the listener speaks the registry token protocol: `GET /v2/` without
// credentials answers 401 with a Bearer challenge naming this listener's /token endpoint, and a
// refused request names the scope it needed. Docker Engine pulls anonymously only this way.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { TLSSocket } from 'node:tls'
import { OciError } from '../registry/errors'
import type { Pki } from '../tls/pki'
import { ANONYMOUS, decide, type AccessRules, type Action, type Identity } from './rules'
import { claimsAllow, isRobotSecret, TOKEN_SERVICE, TokenError, type AccessClaim, type RobotTokens, type TokenSigner } from './tokens'
import { LoginThrottle } from './throttle'
import { basicCredentials, type Users } from './users'

export type WritePolicy = 'open' | 'users' | 'off' | 'client-certificate'
export type AuthMode = 'token' | 'basic'

export interface AccessOptions {
  writes: WritePolicy
  /** how users authenticate where they must (users, off): token (default) or basic */
  auth?: AuthMode
  /** sends HSTS: the listener is TLS */
  tls: boolean
  users?: Users
  pki?: Pki
  rules?: AccessRules
  robots?: RobotTokens
  tokenSigner?: () => TokenSigner
  throttle?: LoginThrottle
}

declare module 'fastify' {
  interface FastifyRequest {
    /** who made the request: a user name, `cert:<name>`, `token:<name>`, or undefined when anonymous */
    identity?: string
    /** whether this client may write here: only such clients keep content fresh for GC (a HEAD) */
    mayWrite: boolean
    /** whether this client may pull a repository (the catalog and search show only those) */
    mayPull: (repository: string) => boolean
  }
}

const READ_METHODS = new Set(['GET', 'HEAD'])
const METHOD_OVERRIDES = ['x-http-method-override', 'x-http-method', 'x-method-override']
const BASIC_CHALLENGE = 'Basic realm="Berth registry", charset="UTF-8"'
const ALWAYS = () => true

/** What a repository route needs: GET/HEAD pull, DELETE of a blob or manifest delete, the rest push. */
function actionOf(request: FastifyRequest): Action {
  if (READ_METHODS.has(request.method)) return 'pull'
  if (request.method === 'DELETE' && !request.url.includes('/blobs/uploads/')) return 'delete'
  return 'push'
}

function identityName(identity: Identity): string | undefined {
  if (identity.kind === 'anonymous') return undefined
  return identity.kind === 'user' ? identity.name : `${identity.kind}:${identity.name}`
}

export const accessPolicy = fp(async (app: FastifyInstance, options: AccessOptions) => {
  app.decorateRequest('identity', undefined)
  app.decorateRequest('mayWrite', false)
  app.decorateRequest('mayPull', ALWAYS)
  // read per request: a settings change to the write policy or the auth mode applies at once
  const usesTokens = () => usesTokenProtocol(options)
  const throttle = options.throttle ?? new LoginThrottle()

  const bearerChallenge = (request: FastifyRequest, scope?: string, error?: string) => {
    const realm = `https://${request.headers.host ?? 'localhost'}/token`
    return `Bearer realm="${realm}",service="${TOKEN_SERVICE}"${scope ? `,scope="${scope}"` : ''}${error ? `,error="${error}"` : ''}`
  }
  const challenge = (request: FastifyRequest, scope?: string, error?: string) => (usesTokens() ? bearerChallenge(request, scope, error) : BASIC_CHALLENGE)

  app.addHook('onRequest', async (request, reply) => {
    const tokenMode = usesTokens()
    if (options.tls) reply.header('Strict-Transport-Security', 'max-age=31536000')
    const path = request.url.split('?')[0]
    if (path === '/token') return // the token endpoint checks credentials itself
    if (path === '/livez' || path === '/readyz') return // probes, public like the version check
    if (options.writes === 'open') {
      request.mayWrite = true
      return
    }
    const versionCheck = path === '/v2/' || path === '/v2'

    if (options.writes === 'off' && (!READ_METHODS.has(request.method) || METHOD_OVERRIDES.some((h) => request.headers[h] !== undefined))) {
      throw new OciError('DENIED', READ_METHODS.has(request.method) ? 'method overrides are refused on a pull-only listener' : 'this listener is pull-only').because('pull-only')
    }

    // who is asking
    let identity: Identity = ANONYMOUS
    let claims: AccessClaim[] | undefined
    let signedIn = false
    if (options.writes === 'client-certificate') {
      // the version check reveals nothing: a revoked certificate passes it, so that the refusal
      // comes on the real request, whose error message clients print (a refused ping reads "403")
      if (versionCheck) return
      identity = clientIdentity(request, options.pki!)
      signedIn = true
    } else {
      const header = request.headers.authorization ?? ''
      const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1]
      const basic = basicCredentials(header)
      if (bearer && isRobotSecret(bearer)) {
        const robot = options.robots?.verify(bearer)
        if (!robot) throw new OciError('UNAUTHORIZED', 'the token is unknown, revoked or expired').withHeaders({ 'WWW-Authenticate': challenge(request, undefined, 'invalid_token') }).because('wrong-password')
        identity = { kind: 'token', name: robot.name }
        signedIn = true
      } else if (bearer && tokenMode) {
        try {
          const verified = await options.tokenSigner!().verify(bearer)
          identity = subjectIdentity(verified.sub)
          claims = verified.access
          signedIn = identity.kind !== 'anonymous'
        } catch (error) {
          if (!(error instanceof TokenError)) throw error
          throw new OciError('UNAUTHORIZED', `invalid token: ${error.message}`)
            .withHeaders({ 'WWW-Authenticate': bearerChallenge(request, undefined, 'invalid_token') })
            .because('invalid-token')
        }
      } else if (basic && (basic.name !== '' || basic.password !== '')) {
        // clients answer a Basic challenge with empty credentials when they have none: anonymous
        identity = await signIn(options, throttle, basic.name, basic.password, request.ip)
        if (identity.kind === 'anonymous') {
          throw new OciError('UNAUTHORIZED', 'wrong user name or password').withHeaders({ 'WWW-Authenticate': challenge(request) }).because('wrong-password')
        }
        signedIn = true
      }
    }
    request.identity = identityName(identity)
    const allows = (action: Action, repository: string) =>
      claims ? claimsAllow(claims, action, repository) : decide(options.rules!, options.robots!, identity, action, repository).allow
    // listings (catalog, search) follow the rules for who is asking, whatever the token's scopes
    request.mayPull = (repository) => decide(options.rules!, options.robots!, identity, 'pull', repository).allow

    if (versionCheck) {
      // where clients learn how to sign in: with credentials it checks them, without it asks
      if (!signedIn && claims === undefined && (tokenMode || options.writes === 'users')) {
        throw new OciError('UNAUTHORIZED', 'sign in, or get an anonymous token from the realm').withHeaders({ 'WWW-Authenticate': challenge(request) })
      }
      return
    }

    const name = (request.params as { name?: string } | undefined)?.name
    if (name === undefined) return // the catalog, search, unknown routes: nothing to decide here
    const action = actionOf(request)
    const needed: { action: Action; repository: string }[] = [{ action, repository: name }]
    const from = (request.query as { from?: unknown }).from
    if (request.method === 'POST' && typeof from === 'string' && (request.query as { mount?: unknown }).mount !== undefined) needed.push({ action: 'pull', repository: from })
    request.mayWrite = allows('push', name)
    for (const need of needed) {
      if (allows(need.action, need.repository)) continue
      const scope = `repository:${need.repository}:${need.action === 'pull' ? 'pull' : `${need.action},pull`}`
      const decision = decide(options.rules!, options.robots!, identity, need.action, need.repository)
      if (!signedIn && !decision.allow) {
        const refusal = new OciError('UNAUTHORIZED', `sign in to ${need.action} ${need.repository}`).withHeaders({ 'WWW-Authenticate': challenge(request, scope) })
        throw need.action === 'pull' && tokenMode ? refusal : refusal.because('login-required')
      }
      if (claims && decision.allow) {
        // the identity may, the token just did not ask: the client fetches one that does
        throw new OciError('UNAUTHORIZED', `the token does not cover ${need.action} on ${need.repository}`).withHeaders({
          'WWW-Authenticate': bearerChallenge(request, scope, 'insufficient_scope'),
        })
      }
      throw new OciError('DENIED', decision.because)
        .withMessage(`requested access to the resource is denied: ${decision.because}`)
        .withHeaders(tokenMode ? { 'WWW-Authenticate': bearerChallenge(request, scope, 'insufficient_scope') } : {})
        .because('denied')
    }
  })
})

/** Whether a listener speaks the token protocol: users must sign in somewhere and auth is token. */
export function usesTokenProtocol(options: AccessOptions): boolean {
  return (options.auth ?? 'token') === 'token' && (options.writes === 'users' || options.writes === 'off') && options.tokenSigner !== undefined
}

/** A token's subject back as an identity: `user:NAME`, `token:NAME`, `cert:NAME`, `anonymous`. */
export function subjectIdentity(subject: string): Identity {
  const match = /^(user|token|cert):(.+)$/.exec(subject)
  return match ? { kind: match[1] as Identity['kind'], name: match[2] } : ANONYMOUS
}

/**
 * A user name and password, or any name and a robot token as the password. Failures slow down
 * per user and address (LoginThrottle); unknown names cost as much as known ones (Users.verify).
 */
export async function signIn(options: AccessOptions, throttle: LoginThrottle, name: string, password: string, address: string): Promise<Identity> {
  const key = `${name}\0${address}`
  throttle.refuseIfLocked(key)
  if (isRobotSecret(password)) {
    const robot = options.robots?.verify(password)
    if (robot) return throttle.succeeded(key), { kind: 'token', name: robot.name }
  } else if (options.users && (await options.users.verify(name, password))) {
    throttle.succeeded(key)
    return { kind: 'user', name }
  }
  await throttle.failed(key)
  return ANONYMOUS
}

function clientIdentity(request: FastifyRequest, pki: Pki): Identity {
  const socket = request.raw.socket as TLSSocket
  const certificate = socket.getPeerCertificate?.()
  if (!socket.authorized || !certificate?.serialNumber) throw new OciError('UNAUTHORIZED', 'a client certificate from Berth is required').because('client-certificate-missing')
  if (pki.isRevoked(certificate.serialNumber)) {
    const serial = certificate.serialNumber.toLowerCase()
    throw new OciError('DENIED', `client certificate ${serial} was revoked`)
      .withMessage(`client certificate revoked (serial ${serial}): issue a new one with berth cert client, or berth trust install`)
      .because('revoked')
  }
  return { kind: 'cert', name: String(certificate.subject?.CN ?? certificate.serialNumber) }
}
