// Requests an attacker or an unlucky client sends: a DNS-rebinding web page, cross-site posts,
// an oversized manifest, repeated query parameters, malformed references, anonymous HEADs that
// would keep garbage alive, a config nested a hundred thousand levels deep, an upload whose file
// cannot be created, and user names told apart by timing.
import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Users } from '../../server/auth/users'
import { createBerth, type Berth } from '../../server/berth'
import { errorCode, OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, pushBlob, randomBlob, sha256, startRegistry, tempDir } from '../helpers/fixtures'
import { tlsRequest } from '../helpers/tls-client'

describe('DNS rebinding and cross-site requests', () => {
  it('refuses a Host the registry does not answer to, and any foreign Origin, with DENIED and an Activity entry', async () => {
    const { app, store } = await startRegistry()
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] })
    const rebound = await app.inject({
      method: 'PUT',
      url: '/v2/x/manifests/dev',
      payload: manifest,
      headers: { host: 'rebind.attacker.example:5000', origin: 'http://rebind.attacker.example:5000', 'content-type': 'application/vnd.oci.image.index.v1+json' },
    })
    assert.equal(rebound.statusCode, 403)
    assert.equal(errorCode(rebound), 'DENIED')

    const blob = randomBlob(100)
    const crossSite = await app.inject({
      method: 'POST',
      url: `/v2/x/blobs/uploads/?digest=${sha256(blob)}`,
      payload: blob,
      headers: { host: 'localhost:5000', origin: 'https://evil.example', 'content-type': 'text/plain' },
    })
    assert.equal(crossSite.statusCode, 403)
    const fetchMetadata = await app.inject({ method: 'GET', url: '/v2/_catalog', headers: { host: '127.0.0.1:5000', 'sec-fetch-site': 'cross-site' } })
    assert.equal(fetchMetadata.statusCode, 403)

    // what container clients send still works
    for (const host of ['localhost:5000', '127.0.0.1:5000', '[::1]:5000', 'localhost']) {
      assert.equal((await app.inject({ method: 'GET', url: '/v2/', headers: { host } })).statusCode, 200, host)
    }
    assert.equal((await app.inject({ method: 'GET', url: '/v2/x/manifests/dev', headers: { host: 'localhost:5000' } })).statusCode, 404, 'nothing was stored')

    const activity = store.events.recent(10).map((e) => e.detail ?? '')
    assert.ok(activity.some((d) => d.startsWith('foreign-host:')))
    assert.ok(activity.some((d) => d.startsWith('cross-site:')))
  })

  it('answers to the certificate names and --host names on the TLS listener', async () => {
    const berth = await createBerth({ dataDir: tempDir(), http: null, mtls: null, https: { host: '127.0.0.1', port: 0 }, hostNames: ['registry.test'] })
    try {
      const https = berth.listeners.find((l) => l.kind === 'https')!
      const ca = (await berth.core.pki()).ca.certPem
      const url = `https://127.0.0.1:${https.port}/v2/`
      for (const host of [`registry.test:${https.port}`, `host.docker.internal:${https.port}`, `localhost:${https.port}`]) {
        assert.equal((await tlsRequest({ url, ca, headers: { host } })).status, 200, host)
      }
      // a rebinding page's name arrives in the Host header over a connection to the loopback address
      assert.equal((await tlsRequest({ url, ca, servername: 'localhost', headers: { host: `attacker.example:${https.port}` } })).status, 403)
    } finally {
      await berth.close()
    }
  })
})

describe('odd and hostile requests', () => {
  let berth: Berth
  let http: string
  before(async () => {
    berth = await createBerth({ dataDir: tempDir(), http: { host: '127.0.0.1', port: 0 }, https: null, mtls: null })
    http = berth.listeners.find((l) => l.kind === 'http')!.url
  })
  after(() => berth.close())

  it('answers a manifest over 4 MiB with 413 SIZE_INVALID that the client reads, not a reset', async () => {
    const huge = Buffer.alloc(5 << 20, 0x20)
    const response = await fetch(`${http}/v2/big/manifests/v1`, { method: 'PUT', body: new Uint8Array(huge), headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(response.status, 413)
    assert.equal(((await response.json()) as { errors: { code: string }[] }).errors[0].code, 'SIZE_INVALID')
  })

  it('answers a repeated `last` or `n` with 400, not 500', async () => {
    for (const query of ['n=1&last=a&last=b', 'n=1&n=2']) {
      const response = await fetch(`${http}/v2/_catalog?${query}`)
      assert.equal(response.status, 400, query)
    }
  })

  it('answers a GET or HEAD by a malformed reference with 404 MANIFEST_UNKNOWN; a PUT keeps its 400', async () => {
    await fetch(`${http}/v2/odd/blobs/uploads/?digest=${sha256('x')}`, { method: 'POST', body: 'x' })
    for (const method of ['GET', 'HEAD']) {
      const response = await fetch(`${http}/v2/odd/manifests/.INVALID_MANIFEST_NAME`, { method })
      assert.equal(response.status, 404, method)
      if (method === 'GET') assert.equal(((await response.json()) as { errors: { code: string }[] }).errors[0].code, 'MANIFEST_UNKNOWN')
    }
    const put = await fetch(`${http}/v2/odd/manifests/.INVALID_MANIFEST_NAME`, { method: 'PUT', body: '{}', headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(put.status, 400)
  })

  it('shows a manifest whose config is nested 100,000 levels deep, with what can be shown', async () => {
    const { app, store } = await startRegistry()
    const config = Buffer.from(`{"architecture":"amd64","os":"linux","config":{"Labels":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)},"Env":["A=1"]}}`)
    const layer = randomBlob(100)
    await pushBlob(app, 'deep', config)
    await pushBlob(app, 'deep', layer)
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER, digest: sha256(layer), size: layer.length }],
    })
    const put = await app.inject({ method: 'PUT', url: '/v2/deep/manifests/v1', payload: manifest, headers: { 'content-type': OCI_MANIFEST } })
    assert.equal(put.statusCode, 201)
    const { StoreQueries } = await import('../../server/admin/queries')
    const view = new StoreQueries(store).manifest('deep', sha256(manifest))
    assert.ok(view)
    assert.equal(view.config?.architecture, 'amd64')
    assert.deepEqual(view.config?.env, ['A=1'])
    assert.deepEqual(view.config?.labels, {})
    JSON.stringify(view)
  })

  it('leaves no session behind when an upload file cannot be created', async () => {
    const { app, store, dataDir } = await startRegistry()
    const uploads = join(dataDir, 'uploads')
    rmSync(uploads, { recursive: true })
    writeFileSync(uploads, 'not a folder')
    try {
      const response = await app.inject({ method: 'POST', url: '/v2/app/blobs/uploads/' })
      assert.equal(response.statusCode, 500)
      assert.equal(store.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM uploads').get()!.n, 0)
    } finally {
      rmSync(uploads)
      mkdirSync(uploads, { mode: 0o700 })
    }
    const report = await store.fsck()
    assert.deepEqual(report.problems, [])
  })
})

describe('who keeps content fresh, and who can be told apart', () => {
  it('an anonymous HEAD on the pull-only listener does not renew GC freshness; a writer HEAD does', async () => {
    const berth = await createBerth({ dataDir: tempDir(), http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0 }, httpsWrite: 'off', mtls: null })
    try {
      const http = berth.listeners.find((l) => l.kind === 'http')!.url
      const https = berth.listeners.find((l) => l.kind === 'https')!.url
      const ca = (await berth.core.pki()).ca.certPem
      const layer = randomBlob(500)
      const digest = sha256(layer)
      assert.equal((await fetch(`${http}/v2/app/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(layer) })).status, 201)
      const linkedAt = () => berth.store.db.prepare<[string], { linked_at: number }>('SELECT linked_at FROM repository_blobs WHERE digest = ?').get(digest)!.linked_at
      berth.store.db.prepare('UPDATE repository_blobs SET linked_at = 1 WHERE digest = ?').run(digest)
      assert.equal((await tlsRequest({ url: `${https}/v2/app/blobs/${digest}`, method: 'HEAD', ca })).status, 200)
      assert.equal(linkedAt(), 1, 'an anonymous reader kept it fresh')
      assert.equal((await fetch(`${http}/v2/app/blobs/${digest}`, { method: 'HEAD' })).status, 200)
      assert.ok(linkedAt() > 1, 'a writer keeps it fresh')
    } finally {
      await berth.close()
    }
  })

  it('takes as long to refuse an unknown user as a known one with a wrong password', async () => {
    const { store } = await startRegistry()
    const users = new Users(store.db)
    users.add('alice', 'right')
    const time = async (name: string) => {
      const start = performance.now()
      for (let i = 0; i < 5; i++) assert.equal(await users.verify(name, `wrong-${i}`), false)
      return performance.now() - start
    }
    await time('nobody') // the dummy hash is made on first use
    const known = await time('alice')
    const unknown = await time('nobody')
    assert.ok(unknown > known * 0.5, `unknown ${unknown} ms, known ${known} ms`)
  })
})

