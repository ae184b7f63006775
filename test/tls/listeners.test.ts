import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { runBerth, startBerth, type BerthServer } from '../helpers/berth-process'
import { sha256, tempDir } from '../helpers/fixtures'
import { basic, tlsRequest } from '../helpers/tls-client'

const blob = Buffer.from('a layer over TLS')

function caOf(server: BerthServer): string {
  return readFileSync(join(server.dataDir, 'pki', 'ca.crt'), 'utf8')
}

function pushUrl(base: string, repository = 'tls/app'): string {
  return `${base}/v2/${repository}/blobs/uploads/?digest=${sha256(blob)}`
}

describe('TLS listener, writes open (loopback default)', () => {
  let server: BerthServer
  before(async () => {
    server = await startBerth(tempDir())
  })

  it('serves TLS 1.2+ with HSTS and security headers; refuses TLS 1.1', async () => {
    const response = await tlsRequest({ url: `${server.urls.https}/v2/`, ca: caOf(server) })
    assert.equal(response.status, 200)
    assert.equal(response.headers['strict-transport-security'], 'max-age=31536000')
    assert.equal(response.headers['x-content-type-options'], 'nosniff')
    assert.equal(response.headers['x-frame-options'], 'DENY')
    await assert.rejects(tlsRequest({ url: `${server.urls.https}/v2/`, ca: caOf(server), minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }))
  })

  it('verifies under localhost and 127.0.0.1', async () => {
    const port = new URL(server.urls.https).port
    for (const host of ['localhost', '127.0.0.1']) {
      assert.equal((await tlsRequest({ url: `https://${host}:${port}/v2/`, ca: caOf(server) })).status, 200, host)
    }
  })

  it('accepts pushes and serves them back', async () => {
    const push = await tlsRequest({ url: pushUrl(server.urls.https), method: 'POST', ca: caOf(server), body: blob })
    assert.equal(push.status, 201)
    const pull = await tlsRequest({ url: `${server.urls.https}/v2/tls/app/blobs/${sha256(blob)}`, ca: caOf(server) })
    assert.equal(pull.body, blob.toString())
  })
})

describe('TLS listener, pull-only (--https-write off)', () => {
  let server: BerthServer
  before(async () => {
    server = await startBerth(tempDir(), ['--https-write', 'off'])
    // something to pull, pushed over plain HTTP
    await fetch(pushUrl(server.http), { method: 'POST', body: blob })
  })

  it('refuses every write method with DENIED', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const response = await tlsRequest({ url: pushUrl(server.urls.https), method, ca: caOf(server), body: blob })
      assert.equal(response.status, 403, method)
      assert.equal(JSON.parse(response.body).errors[0].code, 'DENIED')
    }
  })

  it('refuses method-override headers and path tricks', async () => {
    for (const header of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) {
      const response = await tlsRequest({ url: `${server.urls.https}/v2/tls/app/blobs/${sha256(blob)}`, ca: caOf(server), headers: { [header]: 'DELETE' } })
      assert.equal(response.status, 403, header)
    }
    const trick = await tlsRequest({ url: `${server.urls.https}/v2/../v2/tls/app/blobs/uploads/`, method: 'POST', ca: caOf(server) })
    assert.equal(trick.status, 403)
    const head = await tlsRequest({ url: `${server.urls.https}/v2/tls/app/blobs/${sha256(blob)}`, method: 'HEAD', ca: caOf(server) })
    assert.equal(head.status, 200, 'the blob is still there')
  })

  it('serves pulls', async () => {
    const pull = await tlsRequest({ url: `${server.urls.https}/v2/tls/app/blobs/${sha256(blob)}`, ca: caOf(server) })
    assert.equal(pull.status, 200)
    assert.equal(pull.body, blob.toString())
  })
})

describe('TLS listener, users with plain Basic (--https-write users --auth basic)', () => {
  let server: BerthServer
  before(async () => {
    server = await startBerth(tempDir(), ['--https-write', 'basic', '--auth', 'basic'])
    const added = await runBerth(['user', 'add', 'alice', '--password-stdin', '--data-dir', server.dataDir], { input: 's3cret\n' })
    assert.equal(added.code, 0, added.stderr)
  })

  it('asks for credentials on writes and on the login check, with a Basic challenge', async () => {
    for (const [url, method] of [[pushUrl(server.urls.https), 'POST'], [`${server.urls.https}/v2/`, 'GET']]) {
      const response = await tlsRequest({ url, method, ca: caOf(server), body: method === 'POST' ? blob : undefined })
      assert.equal(response.status, 401)
      assert.match(String(response.headers['www-authenticate']), /^Basic realm=/)
      assert.equal(JSON.parse(response.body).errors[0].code, 'UNAUTHORIZED')
    }
  })

  it('refuses a wrong password and accepts the right one (added while the server runs)', async () => {
    const wrong = await tlsRequest({ url: pushUrl(server.urls.https), method: 'POST', ca: caOf(server), body: blob, headers: { authorization: basic('alice', 'nope') } })
    assert.equal(wrong.status, 401)
    const right = await tlsRequest({ url: pushUrl(server.urls.https), method: 'POST', ca: caOf(server), body: blob, headers: { authorization: basic('alice', 's3cret') } })
    assert.equal(right.status, 201)
    const login = await tlsRequest({ url: `${server.urls.https}/v2/`, ca: caOf(server), headers: { authorization: basic('alice', 's3cret') } })
    assert.equal(login.status, 200)
  })

  it('keeps anonymous pulls working, also when a client answers the challenge with empty credentials', async () => {
    const pull = await tlsRequest({ url: `${server.urls.https}/v2/tls/app/blobs/${sha256(blob)}`, ca: caOf(server) })
    assert.equal(pull.status, 200)
    const empty = await tlsRequest({ url: `${server.urls.https}/v2/tls/app/blobs/${sha256(blob)}`, ca: caOf(server), headers: { authorization: basic('', '') } })
    assert.equal(empty.status, 200)
    const emptyPush = await tlsRequest({ url: pushUrl(server.urls.https), method: 'POST', ca: caOf(server), body: blob, headers: { authorization: basic('', '') } })
    assert.equal(emptyPush.status, 401)
  })

  it('stores htpasswd-compatible bcrypt hashes; a removed user can no longer push', async () => {
    const list = await runBerth(['user', 'list', '--data-dir', server.dataDir])
    assert.equal(list.stdout.trim(), 'alice')
    assert.equal((await runBerth(['user', 'remove', 'alice', '--data-dir', server.dataDir])).code, 0)
    const after = await tlsRequest({ url: pushUrl(server.urls.https), method: 'POST', ca: caOf(server), body: blob, headers: { authorization: basic('alice', 's3cret') } })
    assert.equal(after.status, 401)
  })
})

describe('mTLS listener', () => {
  let server: BerthServer
  let bundle: string
  before(async () => {
    server = await startBerth(tempDir())
    bundle = join(tempDir(), 'ci')
    assert.equal((await runBerth(['cert', 'client', 'ci', '--out', bundle, '--data-dir', server.dataDir])).code, 0)
  })

  const withBundle = (dir: string) => ({ cert: readFileSync(join(dir, 'client.cert')), key: readFileSync(join(dir, 'client.key')) })

  it('pushes with a client certificate from Berth', async () => {
    const push = await tlsRequest({ url: pushUrl(server.urls.mtls, 'mtls/app'), method: 'POST', ca: caOf(server), body: blob, ...withBundle(bundle) })
    assert.equal(push.status, 201)
  })

  it('refuses a client without a certificate, and one from a foreign CA', async () => {
    await assert.rejects(tlsRequest({ url: `${server.urls.mtls}/v2/`, ca: caOf(server) }))
    const foreign = tempDir()
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(foreign, 'client.key'), '-out', join(foreign, 'client.cert'), '-subj', '/CN=intruder', '-days', '1'], { stdio: 'ignore' })
    await assert.rejects(tlsRequest({ url: `${server.urls.mtls}/v2/`, ca: caOf(server), ...withBundle(foreign) }))
  })

  it('refuses a certificate revoked while the server runs, with 403 DENIED that says so', async () => {
    const manifestUrl = `${server.urls.mtls}/v2/mtls/app/tags/list`
    assert.equal((await tlsRequest({ url: manifestUrl, ca: caOf(server), ...withBundle(bundle) })).status, 200)
    assert.equal((await runBerth(['cert', 'revoke', 'ci', '--data-dir', server.dataDir])).code, 0)
    const refused = await tlsRequest({ url: manifestUrl, ca: caOf(server), ...withBundle(bundle) })
    assert.equal(refused.status, 403)
    const error = JSON.parse(refused.body).errors[0]
    assert.equal(error.code, 'DENIED')
    assert.match(error.message, /client certificate revoked/)
    const push = await tlsRequest({ url: pushUrl(server.urls.mtls, 'mtls/app'), method: 'POST', ca: caOf(server), body: blob, ...withBundle(bundle) })
    assert.equal(push.status, 403)
    // and Activity explains it
    await new Promise((resolve) => setTimeout(resolve, 300))
    const gui = new URL(server.urls.gui)
    const activity = await fetch(`${gui.origin}/api/activity:recent`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gui.searchParams.get('token')}`, 'content-type': 'application/json' },
      body: '{}',
    })
    const events = ((await activity.json()) as { result: { detail: string | null; failure?: { fix: string } }[] }).result
    const revoked = events.find((e) => e.detail?.startsWith('revoked:'))
    assert.ok(revoked, JSON.stringify(events))
    assert.match(revoked.failure!.fix, /new client certificate/)
  })
})
