// GET and POST /token: the token endpoint of the registry token protocol, on each TLS listener
// that uses tokens. GET takes Basic credentials (or none: an anonymous token) and `scope`
// parameters; POST is the OAuth2 form `docker login` and containerd use, with
// grant_type=password or refresh_token. Each token grants what the access rules allow of what
// was asked, nothing more; a pull-only listener never grants writes.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { signIn, subjectIdentity, usesTokenProtocol, type AccessOptions } from '../auth/access'
import { ANONYMOUS, decide, identityText, type Action, type Identity } from '../auth/rules'
import { LoginThrottle } from '../auth/throttle'
import { parseScope, TOKEN_SERVICE, TokenError, type AccessClaim } from '../auth/tokens'
import { basicCredentials } from '../auth/users'
import { OciError } from './errors'

const MAX_FORM_BYTES = 64 * 1024
const TOKEN_REALM_CHALLENGE = 'Basic realm="Berth token service", charset="UTF-8"'

type TokenQuery = { service?: string; scope?: string | string[]; account?: string; offline_token?: string; client_id?: string }

export async function tokenRoutes(app: FastifyInstance, options: AccessOptions): Promise<void> {
  const throttle = options.throttle ?? new LoginThrottle()
  const signer = () => options.tokenSigner!()

  /** What `identity` may have of each asked scope. */
  const grantFor = (identity: Identity, scopes: string[]): AccessClaim[] => {
    const claims: AccessClaim[] = []
    for (const text of scopes) {
      for (const part of text.split(' ').filter(Boolean)) {
        let scope: AccessClaim
        try {
          scope = parseScope(part)
        } catch (error) {
          throw new OciError('BAD_REQUEST', (error as TokenError).message)
        }
        if (scope.type === 'registry') {
          // the catalog itself is open; it lists only what the caller may pull
          if (scope.name === 'catalog') claims.push({ type: 'registry', name: 'catalog', actions: ['*'] })
          continue
        }
        const asked = scope.actions.includes('*') ? (['pull', 'push', 'delete'] as Action[]) : (scope.actions.filter((a) => ['pull', 'push', 'delete'].includes(a)) as Action[])
        const granted = asked.filter(
          (action) => (options.writes !== 'off' || action === 'pull') && decide(options.rules!, options.robots!, identity, action, scope.name).allow,
        )
        claims.push({ type: 'repository', name: scope.name, actions: granted })
      }
    }
    return claims
  }

  // the endpoint exists while the listener speaks the token protocol (the write policy and auth mode change live)
  app.addHook('onRequest', async (request) => {
    if (request.url.split('?')[0] === '/token' && !usesTokenProtocol(options)) throw new OciError('ROUTE_UNKNOWN', `${request.method} ${request.url.split('?')[0]}`)
  })

  const refusal = (message: string) => new OciError('UNAUTHORIZED', message).withHeaders({ 'WWW-Authenticate': TOKEN_REALM_CHALLENGE }).because('wrong-password')

  app.get('/token', async (request: FastifyRequest<{ Querystring: TokenQuery }>, reply) => {
    const query = request.query
    if (query.service !== undefined && query.service !== TOKEN_SERVICE) throw new OciError('BAD_REQUEST', `this token service is ${JSON.stringify(TOKEN_SERVICE)}`)
    const basic = basicCredentials(request.headers.authorization)
    let identity: Identity = ANONYMOUS
    if (basic && (basic.name !== '' || basic.password !== '')) {
      identity = await signIn(options, throttle, basic.name, basic.password, request.ip)
      if (identity.kind === 'anonymous') throw refusal('wrong user name or password')
    }
    const scopes = query.scope === undefined ? [] : Array.isArray(query.scope) ? query.scope : [query.scope]
    const issued = await signer().issue(identityText(identity), grantFor(identity, scopes))
    const refresh = query.offline_token === 'true' && identity.kind === 'user' ? await signer().issue(identityText(identity), [], { use: 'refresh', pwf: options.users?.passwordFingerprint(identity.name!) }) : undefined
    return reply.header('Cache-Control', 'no-store').send({
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(refresh ? { refresh_token: refresh.token } : {}),
    })
  })

  app.post('/token', async (request, reply) => {
    const type = String(request.headers['content-type'] ?? '')
    if (!type.startsWith('application/x-www-form-urlencoded')) throw new OciError('BAD_REQUEST', 'send the token request as application/x-www-form-urlencoded')
    const form = new URLSearchParams(await readForm(request.body as Readable | undefined))
    const service = form.get('service')
    if (service !== null && service !== TOKEN_SERVICE) throw new OciError('BAD_REQUEST', `this token service is ${JSON.stringify(TOKEN_SERVICE)}`)
    let identity: Identity
    let offline = false
    switch (form.get('grant_type')) {
      case 'password': {
        identity = await signIn(options, throttle, form.get('username') ?? '', form.get('password') ?? '', request.ip)
        if (identity.kind === 'anonymous') throw refusal('wrong user name or password')
        offline = form.get('access_type') === 'offline'
        break
      }
      case 'refresh_token': {
        try {
          const claims = await signer().verify(form.get('refresh_token') ?? '', 'refresh')
          identity = subjectIdentity(claims.sub)
          // a removed user, or a changed password, ends the refresh tokens issued before
          if (identity.kind !== 'user' || claims.pwf !== options.users?.passwordFingerprint(identity.name!)) throw new TokenError('the refresh token is no longer valid: log in again')
        } catch (error) {
          if (!(error instanceof TokenError)) throw error
          throw refusal(error.message)
        }
        break
      }
      default:
        throw new OciError('BAD_REQUEST', 'grant_type must be password or refresh_token')
    }
    const scopes = form.getAll('scope')
    const issued = await signer().issue(identityText(identity), grantFor(identity, scopes))
    const refresh = offline && identity.kind === 'user' ? await signer().issue(identityText(identity), [], { use: 'refresh', pwf: options.users?.passwordFingerprint(identity.name!) }) : undefined
    return reply.header('Cache-Control', 'no-store').send({
      access_token: issued.token,
      token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      scope: scopes.join(' '),
      ...(refresh ? { refresh_token: refresh.token } : {}),
    })
  })
}

async function readForm(body: Readable | undefined): Promise<string> {
  if (!body) return ''
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length
    if (length > MAX_FORM_BYTES) {
      body.resume()
      throw new OciError('BAD_REQUEST', 'the token request is too large')
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
