// The registry token protocol's tokens: short-lived JWTs signed with ES256 by a key of this data
// dir (DATA_DIR/pki/token-signing.key, 0600), carrying distribution's `access` claims; refresh
// tokens for `docker login`'s offline flow; and robot tokens, named secrets for CI jobs.
//
// Signing and verification are jose's (a well-kept JOSE library with no dependencies).
// Verification trusts nothing in a token but its signature by this data dir's key: only ES256
// is accepted (no `none`, no HS256 keyed with the public key), and the issuer, audience, expiry
// and not-before are checked with a 30 s leeway.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { ACTIONS, AccessError, parseActions, prefixCovers, type Action } from './rules'

export const TOKEN_SERVICE = 'berth'
const ISSUER = 'berth'
export const ACCESS_TOKEN_SECONDS = 300
const REFRESH_TOKEN_SECONDS = 30 * 24 * 60 * 60
const LEEWAY_SECONDS = 30

/** One entry of the `access` claim: what a token allows on one resource. */
export interface AccessClaim {
  type: 'repository' | 'registry'
  name: string
  actions: string[]
}

export interface TokenClaims {
  iss: string
  sub: string
  aud: string
  exp: number
  nbf: number
  iat: number
  jti: string
  access: AccessClaim[]
  /** access tokens authorize requests; refresh tokens only buy new access tokens */
  use: 'access' | 'refresh'
  /** for refresh tokens: a fingerprint of the password hash, so a password change ends them */
  pwf?: string
}

export class TokenError extends Error {}

/** Verified tokens, so a client's every request is not an ECDSA verification. */
const VERIFIED_CACHE = 1000

export class TokenSigner {
  private readonly publicKey: KeyObject
  private readonly verified = new Map<string, TokenClaims>()

  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey)
  }

  /** Loads the data dir's signing key, creating it (0600) on first use. */
  static open(pkiDir: string): TokenSigner {
    const path = join(pkiDir, 'token-signing.key')
    try {
      return new TokenSigner(createPrivateKey(readFileSync(path, 'utf8')))
    } catch {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`
      writeFileSync(temp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
      renameSync(temp, path)
      return new TokenSigner(privateKey)
    }
  }

  /** A key id clients may show; the registry itself checks the signature, not the id. */
  get keyId(): string {
    return createHash('sha256').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 16)
  }

  async issue(subject: string, access: AccessClaim[], options: { use?: 'access' | 'refresh'; pwf?: string } = {}): Promise<{ token: string; expiresIn: number; issuedAt: string }> {
    const use = options.use ?? 'access'
    const now = Math.floor(Date.now() / 1000)
    const expiresIn = use === 'access' ? ACCESS_TOKEN_SECONDS : REFRESH_TOKEN_SECONDS
    const { SignJWT } = await joseLibrary()
    const token = await new SignJWT({ access, use, ...(options.pwf ? { pwf: options.pwf } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: this.keyId })
      .setIssuer(ISSUER)
      .setSubject(subject)
      .setAudience(TOKEN_SERVICE)
      .setIssuedAt(now)
      .setNotBefore(now - LEEWAY_SECONDS)
      .setExpirationTime(now + expiresIn)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.privateKey)
    return { token, expiresIn, issuedAt: new Date(now * 1000).toISOString() }
  }

  /** The claims of a token this data dir signed, still valid, meant for `use`; else TokenError. */
  async verify(token: string, use: 'access' | 'refresh' = 'access'): Promise<TokenClaims> {
    const known = this.verified.get(token)
    if (known && known.use === use && known.exp + LEEWAY_SECONDS >= Math.floor(Date.now() / 1000)) return known
    const claims = await this.verifyAnew(token, use)
    if (this.verified.size >= VERIFIED_CACHE) this.verified.clear()
    this.verified.set(token, claims)
    return claims
  }

  private async verifyAnew(token: string, use: 'access' | 'refresh'): Promise<TokenClaims> {
    const { jwtVerify, errors } = await joseLibrary()
    let payload: Record<string, unknown>
    try {
      ;({ payload } = await jwtVerify(token, this.publicKey, { algorithms: ['ES256'], issuer: ISSUER, audience: TOKEN_SERVICE, clockTolerance: LEEWAY_SECONDS }))
    } catch (error) {
      throw new TokenError(tokenProblem(errors, error))
    }
    const claims = payload as unknown as TokenClaims
    if (claims.use !== use) throw new TokenError(`this is not an ${use} token`)
    if (typeof claims.sub !== 'string' || !Array.isArray(claims.access) || typeof claims.exp !== 'number') throw new TokenError('malformed token claims')
    return claims
  }
}

/** jose, loaded with the first token: a registry that never sees one keeps 3 MiB less. */
const joseLibrary = () => import('jose')

/** jose's failure in words a client log can show. */
function tokenProblem(joseErrors: typeof import('jose').errors, error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired'
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet'
    if (error.claim === 'aud' || error.claim === 'iss') return 'the token is for another service'
    return `the token's ${error.claim} claim is invalid`
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'tokens are signed with ES256'
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token was not signed by this registry'
  return 'malformed token'
}

/** Whether an access claim list allows `action` on `repository`. */
export function claimsAllow(access: AccessClaim[], action: Action, repository: string): boolean {
  return access.some((a) => a.type === 'repository' && a.name === repository && (a.actions.includes(action) || a.actions.includes('*')))
}

/**
 * Parses `repository:NAME:ACTIONS` and `registry:catalog:*` scopes. Names have no colons, but a
 * resource type may carry a class (`repository(plugin)`), which is dropped.
 */
export function parseScope(scope: string): AccessClaim {
  const first = scope.indexOf(':')
  const last = scope.lastIndexOf(':')
  if (first <= 0 || last === first) throw new TokenError(`malformed scope ${JSON.stringify(scope.slice(0, 200))} (repository:NAME:ACTIONS)`)
  const type = scope.slice(0, first).replace(/\(.*\)$/, '')
  const name = scope.slice(first + 1, last)
  const actions = scope.slice(last + 1).split(',').filter(Boolean)
  if (type !== 'repository' && type !== 'registry') throw new TokenError(`unknown scope type ${JSON.stringify(type)}`)
  if (!name || actions.length === 0) throw new TokenError(`malformed scope ${JSON.stringify(scope.slice(0, 200))}`)
  return { type, name, actions }
}

/** A robot token's scope: prefixes and what it may do under them. */
export interface RobotScope {
  prefix: string
  actions: Action[]
}

export interface RobotToken {
  name: string
  scope: RobotScope[]
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  state: 'valid' | 'revoked' | 'expired'
}

const ROBOT_NAME = /^[A-Za-z0-9._-]{1,64}$/
const ROBOT_PREFIX = 'berth_rt_'

export function isRobotSecret(text: string): boolean {
  return text.startsWith(ROBOT_PREFIX) && text.length > ROBOT_PREFIX.length + 20
}

/** `apps/web/:pull,push` → { prefix: 'apps/web/', actions: [...] } */
export function parseRobotScope(text: string): RobotScope {
  const colon = text.lastIndexOf(':')
  if (colon <= 0) throw new AccessError(`a scope is PREFIX:ACTIONS, such as apps/web/:pull,push; not ${JSON.stringify(text)}`)
  return { prefix: text.slice(0, colon), actions: parseActions(text.slice(colon + 1)) }
}

/** Named, revocable secrets for CI: a password for any user name, or a Bearer token. Only their hash is kept. */
export class RobotTokens {
  constructor(private readonly db: Database.Database) {}

  create(name: string, scope: RobotScope[], expiresAt: number | null): string {
    if (!ROBOT_NAME.test(name)) throw new AccessError(`invalid token name ${JSON.stringify(name)}: use letters, digits and . _ -`)
    if (scope.length === 0) throw new AccessError('a token needs at least one --scope PREFIX:ACTIONS')
    for (const s of scope) for (const a of s.actions) if (!ACTIONS.includes(a)) throw new AccessError(`unknown action ${a}`)
    const secret = `${ROBOT_PREFIX}${randomBytes(24).toString('base64url')}`
    const inserted = this.db
      .prepare('INSERT OR IGNORE INTO robot_tokens (name, secret_hash, scope, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(name, hashSecret(secret), JSON.stringify(scope), Date.now(), expiresAt)
    if (inserted.changes === 0) throw new AccessError(`a token named ${name} exists: revoke it first, or choose another name`)
    return secret
  }

  /** The token a secret belongs to, when it is valid. */
  verify(secret: string): { name: string; scope: RobotScope[] } | undefined {
    if (!isRobotSecret(secret)) return undefined
    const row = this.db
      .prepare<[string], { name: string; scope: string; expires_at: number | null; revoked_at: number | null }>(
        'SELECT name, scope, expires_at, revoked_at FROM robot_tokens WHERE secret_hash = ?',
      )
      .get(hashSecret(secret))
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at < Date.now())) return undefined
    return { name: row.name, scope: JSON.parse(row.scope) as RobotScope[] }
  }

  /** What a robot may do: its scope, nothing more. */
  allows(name: string, action: Action, repository: string): boolean {
    const row = this.db.prepare<[string], { scope: string; expires_at: number | null; revoked_at: number | null }>('SELECT scope, expires_at, revoked_at FROM robot_tokens WHERE name = ?').get(name)
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at < Date.now())) return false
    return (JSON.parse(row.scope) as RobotScope[]).some((s) => s.actions.includes(action) && prefixCovers(s.prefix, repository))
  }

  list(): RobotToken[] {
    const rows = this.db
      .prepare<[], { name: string; scope: string; created_at: number; expires_at: number | null; revoked_at: number | null }>(
        'SELECT name, scope, created_at, expires_at, revoked_at FROM robot_tokens ORDER BY name',
      )
      .all()
    return rows.map((r) => ({
      name: r.name,
      scope: JSON.parse(r.scope) as RobotScope[],
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
      state: r.revoked_at !== null ? 'revoked' : r.expires_at !== null && r.expires_at < Date.now() ? 'expired' : 'valid',
    }))
  }

  revoke(name: string): boolean {
    return this.db.prepare('UPDATE robot_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(Date.now(), name).changes > 0
  }
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}
