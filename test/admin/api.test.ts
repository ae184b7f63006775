// The admin API's operations, through the HTTP transport the headless GUI uses: what a user
// would read on screen (sizes, platforms, what GC would free) and what actions change.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createBerth, type Berth } from '../../server/berth'
import { randomBlob, sha256, tempDir } from '../helpers/fixtures'
import { imageManifest, pushBlobHttp, pushManifestHttp } from '../helpers/http-client'
import { tlsRequest } from '../helpers/tls-client'

describe('admin API operations', () => {
  let berth: Berth
  let http: string
  let call: <T = unknown>(channel: string, args?: object) => Promise<T>
  let fail: (channel: string, args?: object) => Promise<string>

  const shared = randomBlob(50_000)
  const own = randomBlob(20_000)
  const config = (arch: string) => Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: { Env: ['PATH=/bin'], Labels: { team: 'core' } }, rootfs: { type: 'layers', diff_ids: [] } }))

  before(async () => {
    const dataDir = tempDir()
    berth = await createBerth({ dataDir, http: { host: '127.0.0.1', port: 0 }, https: { host: '127.0.0.1', port: 0 }, mtls: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 } })
    http = berth.listeners.find((l) => l.kind === 'http')!.url
    const admin = berth.listeners.find((l) => l.kind === 'admin')!.url
    const post = async (channel: string, args: object = {}) => {
      const response = await fetch(`${admin}/api/${channel}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${berth.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      })
      return (await response.json()) as { result?: unknown; error?: string }
    }
    call = async <T,>(channel: string, args: object = {}) => {
      const reply = await post(channel, args)
      if (reply.error) throw new Error(reply.error)
      return reply.result as T
    }
    fail = async (channel: string, args: object = {}) => {
      const reply = await post(channel, args)
      assert.ok(reply.error, `${channel} should fail`)
      return reply.error!
    }
    // web and worker share one layer; each has one of its own
    for (const [repository, arch] of [['web', 'amd64'], ['worker', 'arm64']] as const) {
      const c = config(arch)
      const layer = repository === 'web' ? own : randomBlob(10_000)
      for (const blob of [c, shared, layer]) await pushBlobHttp(http, repository, blob)
      await pushManifestHttp(http, repository, 'v1', imageManifest(c, [shared, layer]))
    }
  })
  after(async () => {
    await berth?.close()
  })

  it('lists repositories with unique and shared bytes', async () => {
    const repositories = await call<{ name: string; tags: number; uniqueBytes: number; sharedBytes: number }[]>('repositories:list')
    assert.deepEqual(repositories.map((r) => r.name), ['web', 'worker'])
    const web = repositories[0]
    assert.equal(web.tags, 1)
    assert.equal(web.sharedBytes, shared.length)
    assert.ok(web.uniqueBytes > own.length && web.uniqueBytes < own.length + 2000, String(web.uniqueBytes))
    const overview = await call<{ storage: { savedByDedupe: number }; counts: { blobs: number } }>('overview:get')
    assert.equal(overview.storage.savedByDedupe, shared.length)
    assert.equal(overview.counts.blobs, 5)
  })

  it('shows a manifest with its platform, config and how widely each layer is shared', async () => {
    const repository = await call<{ tags: { tag: string; digest: string; platforms: string[] }[] }>('repository:get', { name: 'web' })
    const [tag] = repository.tags
    assert.deepEqual(tag.platforms, ['linux/amd64'])
    const manifest = await call<{ config: { env: string[]; labels: Record<string, string> }; layers: { size: number; sharedWith: number }[] }>('manifest:get', { repository: 'web', digest: tag.digest })
    assert.deepEqual(manifest.config.env, ['PATH=/bin'])
    assert.deepEqual(manifest.config.labels, { team: 'core' })
    assert.deepEqual(manifest.layers.map((l) => [l.size, l.sharedWith]), [[shared.length, 1], [own.length, 0]])
  })

  it('adds a tag to a digest, and refuses an invalid tag in words', async () => {
    const { tags } = await call<{ tags: { digest: string }[] }>('repository:get', { name: 'web' })
    await call('tag:add', { repository: 'web', digest: tags[0].digest, tag: 'stable' })
    const served = await fetch(`${http}/v2/web/manifests/stable`, { method: 'HEAD' })
    assert.equal(served.headers.get('docker-content-digest'), tags[0].digest)
    assert.match(await fail('tag:add', { repository: 'web', digest: tags[0].digest, tag: '-bad' }), /not a valid tag/)
  })

  it('says what GC would free before a delete, and frees exactly that after it', async () => {
    const preview = await call<{ plain: { bytes: number }; untagged: { bytes: number; blobs: number } }>('delete:preview', { repository: 'web' })
    // the shared layer stays (worker uses it): the config, own layer and manifest go
    assert.equal(preview.untagged.blobs, 2)
    assert.ok(preview.plain.bytes > own.length)
    await call('repository:delete', { name: 'web' })
    const gc = await call<{ bytes: number; blobs: number }>('gc:run', { untagged: false })
    assert.equal(gc.bytes, preview.plain.bytes)
    assert.equal(gc.blobs, 2)
    const still = await fetch(`${http}/v2/worker/blobs/${sha256(shared)}`)
    assert.equal(still.status, 200)
  })

  it('applies a write-policy change at once and logs the refused push with its fix', async () => {
    await call('settings:update', { httpsWrite: 'basic' })
    const https = berth.listeners.find((l) => l.kind === 'https')!.url
    const ca = (await berth.core.pki()).ca.certPem
    const refused = await tlsRequest({ url: `${https}/v2/web/blobs/uploads/`, ca, method: 'POST' })
    assert.equal(refused.status, 401)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const activity = await call<{ kind: string; failure?: { explanation: string; fix: string } }[]>('activity:recent', { limit: 5 })
    const failure = activity.find((e) => e.kind === 'auth')
    assert.match(failure?.failure?.fix ?? '', /docker login/)
    await call('settings:update', { httpsWrite: 'open' })
  })

  it('adds a LAN IP to the server certificate and refuses a public name', async () => {
    const certificates = await call<{ serverNames: string[] }>('certificates:addName', { name: '192.168.1.20' })
    assert.ok(certificates.serverNames.includes('192.168.1.20'))
    assert.match(await fail('certificates:addName', { name: 'example.com' }), /outside the names Berth's CA may certify/)
    assert.deepEqual((await call<{ hostNames: string[] }>('settings:get')).hostNames, ['192.168.1.20'])
  })

  it('issues a client certificate as a certs.d bundle with a private key only its owner reads', async () => {
    const bundle = await call<{ filename: string; base64: string; serial: string }>('clients:issue', { name: 'laptop' })
    const file = join(tempDir(), bundle.filename)
    writeFileSync(file, Buffer.from(bundle.base64, 'base64'))
    const listing = execFileSync('tar', ['-tzvf', file]).toString()
    const mtls = berth.listeners.find((l) => l.kind === 'mtls')!.port
    assert.match(listing, new RegExp(`-rw------- .* localhost:${mtls}/client\\.key`))
    assert.match(listing, new RegExp(`localhost:${mtls}/client\\.cert`))
    assert.match(listing, new RegExp(`localhost:${mtls}/ca\\.crt`))
    const revoked = await call<{ revoked: string[] }>('clients:revoke', { serial: bundle.serial })
    assert.deepEqual(revoked.revoked, [bundle.serial])
    const clients = await call<{ serial: string; state: string }[]>('clients:list')
    assert.equal(clients.find((c) => c.serial === bundle.serial)?.state, 'revoked')
  })
})
