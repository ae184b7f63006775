// The token protocol on the TLS listener (--https-write users, --auth token), driven over HTTPS:
// challenges with scopes, what each token grants, every kind of bad token, refresh tokens, robot
// tokens, listings filtered by the rules, password guessing slowed down, and no secret in Activity.
import assert from 'node:assert/strict'
import { createHmac, createPrivateKey, createPublicKey, sign } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { LoginThrottle } from '../../server/auth/throttle'
import { createBerth, type Berth } from '../../server/berth'
import { randomBlob, sha256, tempDir } from '../helpers/fixtures'
import { basic, tlsRequest, type TlsResponse } from '../helpers/tls-client'

const b64 = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

describe('token authentication', () => {
  let berth: Berth
  let https: string
  let ca: string
  let dataDir: string
  const blob = randomBlob(300)

  const get = (path: string, headers: Record<string, string> = {}) => tlsRequest({ url: `${https}${path}`, ca, headers })
  const push = (repository: string, headers: Record<string, string> = {}) =>
    tlsRequest({ url: `${https}/v2/${repository}/blobs/uploads/?digest=${sha256(blob)}`, method: 'POST', ca, body: blob, headers })
  const tokenFor = async (scope: string, credentials?: [string, string]) => {
    const response = await get(`/token?service=berth&scope=${encodeURIComponent(scope)}`, credentials ? { authorization: basic(...credentials) } : {})
    assert.equal(response.status, 200, response.body)
    return JSON.parse(response.body) as { token: string; access_token: string; expires_in: number; refresh_token?: string }
  }
  const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  const challengeOf = (response: TlsResponse) => String(response.headers['www-authenticate'] ?? '')

  before(async () => {
    dataDir = tempDir()
    // the same throttle as in use, with waits capped at 1 s instead of 5 so the test is short
    berth = await createBerth({ dataDir, http: null, mtls: null, https: { host: '127.0.0.1', port: 0 }, httpsWrite: 'users', loginThrottle: new LoginThrottle(1000) })
    https = berth.listeners.find((l) => l.kind === 'https')!.url
    ca = (await berth.core.pki()).ca.certPem
    berth.core.users.add('alice', 's3cret')
    berth.core.users.add('bob', 'hunter2')
  })
  after(() => berth.close())

  it('challenges GET /v2/ with Bearer naming this listener\'s /token, and a refused push with its scope', async () => {
    const ping = await get('/v2/')
    assert.equal(ping.status, 401)
    assert.equal(challengeOf(ping), `Bearer realm="${https.replace('127.0.0.1', '127.0.0.1')}/token",service="berth"`)
    const refused = await push('apps/web')
    assert.equal(refused.status, 401)
    assert.match(challengeOf(refused), /scope="repository:apps\/web:push,pull"/)
  })

  it('gives anonymous tokens only what anonymous may do, and users what the rules allow', async () => {
    const anonymous = await tokenFor('repository:apps/web:pull,push')
    assert.deepEqual(claimsOf(anonymous.token).access, [{ type: 'repository', name: 'apps/web', actions: ['pull'] }])
    assert.equal(anonymous.expires_in, 300)
    assert.equal((await push('apps/web', bearer(anonymous.token))).status, 401)

    const alice = await tokenFor('repository:apps/web:pull,push', ['alice', 's3cret'])
    assert.deepEqual(claimsOf(alice.token).access[0].actions, ['pull', 'push'])
    assert.equal(claimsOf(alice.token).sub, 'user:alice')
    assert.equal((await push('apps/web', bearer(alice.token))).status, 201)

    // a token for one repository does not open another, even one the user may push to
    const elsewhere = await push('apps/api', bearer(alice.token))
    assert.equal(elsewhere.status, 401)
    assert.match(challengeOf(elsewhere), /error="insufficient_scope"/)

    // another user's private repository: the token grants nothing there, and the refusal says why
    const private_ = await tokenFor('repository:users/bob/app:pull,push', ['alice', 's3cret'])
    assert.deepEqual(claimsOf(private_.token).access[0].actions, [])
    const denied = await push('users/bob/app', bearer(private_.token))
    assert.equal(denied.status, 403)
    assert.match(JSON.parse(denied.body).errors[0].message, /private to user:bob/)
  })

  it('refuses expired, not-yet-valid, foreign, tampered, alg:none and HS256 tokens, and malformed scopes', async () => {
    const key = createPrivateKey(readFileSync(join(dataDir, 'pki', 'token-signing.key')))
    const now = Math.floor(Date.now() / 1000)
    const claims = { iss: 'berth', sub: 'user:alice', aud: 'berth', iat: now, nbf: now - 10, exp: now + 300, jti: 'x', use: 'access', access: [{ type: 'repository' as const, name: 'apps/web', actions: ['pull', 'push'] }] }
    const es256 = (payload: object) => {
      const input = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64(payload)}`
      return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`
    }
    assert.equal((await push('apps/web', bearer(es256(claims)))).status, 201, 'a well-formed token of this data dir works')

    const other = await createBerth({ dataDir: tempDir(), http: null, mtls: null, https: null })
    const foreign = (await other.core.tokenSigner().issue('user:alice', claims.access)).token
    await other.close()
    const valid = es256(claims)
    const [header, payload, signature] = valid.split('.')
    const bad: Record<string, string> = {
      expired: es256({ ...claims, exp: now - 120 }),
      'not yet valid': es256({ ...claims, nbf: now + 600 }),
      'another data dir': foreign,
      tampered: `${header}.${b64({ ...claims, access: [{ type: 'repository', name: 'apps/other', actions: ['push'] }] })}.${signature}`,
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'HS256 with the public key': (() => {
        const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${payload}`
        const publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString()
        return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`
      })(),
      'another audience': es256({ ...claims, aud: 'elsewhere' }),
      'a refresh token': es256({ ...claims, use: 'refresh' }),
      garbage: 'not.a.token',
    }
    for (const [why, token] of Object.entries(bad)) {
      const response = await push('apps/web', bearer(token))
      assert.equal(response.status, 401, why)
      assert.equal(JSON.parse(response.body).errors[0].code, 'UNAUTHORIZED', why)
      assert.match(challengeOf(response), /error="invalid_token"/, why)
    }
    for (const scope of ['repository', 'repository:apps/web', 'nonsense:x:pull', ':::']) {
      assert.equal((await get(`/token?service=berth&scope=${encodeURIComponent(scope)}`)).status, 400, scope)
    }
  })

  it('speaks the OAuth2 form docker login and containerd use, with refresh tokens that a password change ends', async () => {
    const post = (form: Record<string, string>) =>
      tlsRequest({ url: `${https}/token`, method: 'POST', ca, body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    const wrong = await post({ grant_type: 'password', username: 'bob', password: 'nope', service: 'berth' })
    assert.equal(wrong.status, 401)
    const login = await post({ grant_type: 'password', username: 'bob', password: 'hunter2', service: 'berth', access_type: 'offline', client_id: 'test', scope: 'repository:users/bob/app:pull,push' })
    assert.equal(login.status, 200, login.body)
    const { access_token, refresh_token } = JSON.parse(login.body)
    assert.ok(refresh_token)
    assert.equal((await push('users/bob/app', bearer(access_token))).status, 201)
    const refreshed = await post({ grant_type: 'refresh_token', refresh_token, service: 'berth', scope: 'repository:users/bob/app:pull' })
    assert.equal(refreshed.status, 200)
    assert.deepEqual(claimsOf(JSON.parse(refreshed.body).access_token).access[0].actions, ['pull'])
    berth.core.users.add('bob', 'a-new-password')
    assert.equal((await post({ grant_type: 'refresh_token', refresh_token, service: 'berth' })).status, 401)
    assert.equal((await post({ grant_type: 'client_credentials' })).status, 400)
  })

  it('robot tokens: a password with any name or a Bearer token, within their scope, until revoked', async () => {
    const secret = berth.core.robots.create('ci', [{ prefix: 'apps/ci/', actions: ['pull', 'push'] }], null)
    assert.equal((await push('apps/ci/app', { authorization: basic('anything', secret) })).status, 201)
    assert.equal((await push('apps/ci/app', bearer(secret))).status, 201)
    const viaToken = await tokenFor('repository:apps/ci/app:pull,push', ['ci', secret])
    assert.equal(claimsOf(viaToken.token).sub, 'token:ci')
    assert.equal((await push('apps/ci/app', bearer(viaToken.token))).status, 201)
    const outside = await push('apps/web', bearer(secret))
    assert.equal(outside.status, 403)
    assert.match(JSON.parse(outside.body).errors[0].message, /outside the scope of token:ci/)
    berth.core.robots.revoke('ci')
    assert.equal((await push('apps/ci/app', bearer(secret))).status, 401)
  })

  it("lists only what the caller may pull, and a mount needs pull on its source", async () => {
    const alice = await tokenFor('repository:users/alice/tool:pull,push', ['alice', 's3cret'])
    assert.equal((await push('users/alice/tool', bearer(alice.token))).status, 201)
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(blob), size: blob.length }, layers: [] })
    const put = await tlsRequest({ url: `${https}/v2/users/alice/tool/manifests/v1`, method: 'PUT', ca, body: manifest, headers: { ...bearer(alice.token), 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })
    assert.equal(put.status, 201, put.body)

    const anonymousCatalog = JSON.parse((await get('/v2/_catalog', bearer((await tokenFor('registry:catalog:*')).token))).body)
    assert.ok(!anonymousCatalog.repositories.includes('users/alice/tool'))
    const aliceCatalog = JSON.parse((await get('/v2/_catalog', bearer((await tokenFor('registry:catalog:*', ['alice', 's3cret'])).token))).body)
    assert.ok(aliceCatalog.repositories.includes('users/alice/tool'))

    // bob may push apps/, but not read alice's private repository: no mount from it
    const bob = await tokenFor('repository:apps/bob:pull,push repository:users/alice/tool:pull', ['bob', 'a-new-password'])
    const mount = await tlsRequest({ url: `${https}/v2/apps/bob/blobs/uploads/?mount=${sha256(blob)}&from=users/alice/tool`, method: 'POST', ca, headers: bearer(bob.token) })
    assert.equal(mount.status, 403)
  })

  it('slows down password guessing and then refuses it; no password or token reaches Activity', async () => {
    const times: number[] = []
    for (let i = 0; i < 4; i++) {
      const start = performance.now()
      assert.equal((await get('/token?service=berth', { authorization: basic('alice', `guess-${i}`) })).status, 401)
      times.push(performance.now() - start)
    }
    assert.ok(times[3] > times[0] + 300, `failures slow down: ${times.map(Math.round).join(', ')} ms`)
    for (let i = 4; i < 10; i++) await get('/token?service=berth', { authorization: basic('alice', `guess-${i}`) })
    const locked = await get('/token?service=berth', { authorization: basic('alice', 's3cret') })
    assert.equal(locked.status, 429)
    assert.ok(Number(locked.headers['retry-after']) > 0)

    berth.store.events.flush()
    const text = JSON.stringify(berth.store.events.recent(1000))
    for (const secret of ['s3cret', 'hunter2', 'a-new-password', 'guess-1', 'berth_rt_', 'eyJ']) assert.ok(!text.includes(secret), `Activity holds ${secret}`)
  })
})
