// GC while clients push: nothing acknowledged is ever lost, and a crash mid-GC leaves a clean store.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { createBerth } from '../../server/berth'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { digestOf, imageManifest, pullImageHttp, pushManifestHttp } from '../helpers/http-client'

const octets = { 'content-type': 'application/octet-stream' }

/** Uploads a blob the way real clients do: HEAD first, then a mount, a monolithic or a chunked upload. */
async function ensureBlob(base: string, repository: string, data: Buffer, style: number, mountFrom?: string): Promise<void> {
  const digest = digestOf(data)
  if ((await fetch(`${base}/v2/${repository}/blobs/${digest}`, { method: 'HEAD' })).status === 200) return
  if (mountFrom) {
    const mount = await fetch(`${base}/v2/${repository}/blobs/uploads/?mount=${digest}&from=${mountFrom}`, { method: 'POST' })
    if (mount.status === 201) return
    await mount.body?.cancel()
  }
  if (style % 2 === 0) {
    const response = await fetch(`${base}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: Uint8Array.from(data), headers: octets })
    if (response.status !== 201) throw new Error(`monolithic push ${response.status}`)
    return
  }
  const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST' })
  let location = new URL(start.headers.get('location')!, base).toString()
  const half = Math.floor(data.length / 2)
  for (const [from, to] of [[0, half], [half, data.length]]) {
    const patch = await fetch(location, { method: 'PATCH', body: Uint8Array.from(data.subarray(from, to)), headers: { ...octets, 'content-range': `${from}-${to - 1}` } })
    if (patch.status !== 202) throw new Error(`chunk ${patch.status}`)
    location = new URL(patch.headers.get('location')!, base).toString()
  }
  const put = await fetch(`${location}${location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' })
  if (put.status !== 201) throw new Error(`chunked finish ${put.status}: ${await put.text()}`)
}

describe('GC online', () => {
  it('8 clients push (new and shared layers, chunked, monolithic, mounts) while GC loops: every acknowledged push pulls back, fsck is clean', async () => {
    const dataDir = tempDir()
    const berth = await createBerth({ dataDir, http: { host: '127.0.0.1', port: 0 }, https: null, mtls: null })
    const base = berth.listeners[0].url
    const shared = [randomBytes(256 * 1024), randomBytes(64 * 1024)]
    const kept: { repository: string; tag: string; digest: string }[] = []
    let stop = false
    let gcRuns = 0
    let removed = 0

    const gcLoop = (async () => {
      while (!stop) {
        // the default grace protects uploads a manifest has not referenced yet; what deleted
        // tags leave behind is collected at once
        const result = await berth.core.gc.run({ untagged: true })
        gcRuns++
        removed += result.blobs + result.manifests
        await sleep(5)
      }
    })()

    const client = async (n: number) => {
      const repository = `online/c${n}`
      for (let round = 0; round < 12; round++) {
        const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', client: n, round }))
        const layers = [...shared, randomBytes(16 * 1024 + round)]
        const mountFrom = round > 0 ? `online/c${(n + 1) % 8}` : undefined
        for (const [i, blob] of [config, ...layers].entries()) await ensureBlob(base, repository, blob, n + round + i, mountFrom)
        const digest = await pushManifestHttp(base, repository, `r${round}`, imageManifest(config, layers))
        kept.push({ repository, tag: `r${round}`, digest })
        // drop an older tag: its unshared content becomes garbage for the next GC
        if (round >= 2) {
          const response = await fetch(`${base}/v2/${repository}/manifests/r${round - 2}`, { method: 'DELETE' })
          assert.equal(response.status, 202)
          // found after the await: other clients change the list meanwhile
          kept.splice(kept.findIndex((k) => k.repository === repository && k.tag === `r${round - 2}`), 1)
        }
      }
    }
    try {
      await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(client))
    } finally {
      stop = true
      await gcLoop
    }
    assert.ok(gcRuns > 3, `GC ran ${gcRuns} times during the pushes`)
    assert.ok(removed > 0, 'GC removed garbage while clients pushed')

    for (const push of kept) {
      const pulled = await pullImageHttp(base, push.repository, push.tag)
      assert.equal(pulled.digest, push.digest)
      for (const b of pulled.blobs) assert.equal(b.actual, b.expected)
    }
    await berth.core.gc.run({ untagged: true })
    for (const push of kept) assert.equal((await pullImageHttp(base, push.repository, push.tag)).digest, push.digest)
    assert.equal((await berth.fsck()).clean, true)
    await berth.close()
  })

  it('kill -9 during a GC: fsck is clean, every tagged image is intact, the next GC completes', async () => {
    const dataDir = tempDir()
    let server = await startBerth(dataDir)
    const keep = []
    for (let i = 0; i < 5; i++) {
      const config = Buffer.from(`{"keep":${i}}`)
      const layer = randomBytes(2048)
      for (const blob of [config, layer]) await fetch(`${server.http}/v2/crash/keep/blobs/uploads/?digest=${digestOf(blob)}`, { method: 'POST', body: Uint8Array.from(blob) })
      keep.push({ tag: `k${i}`, digest: await pushManifestHttp(server.http, 'crash/keep', `k${i}`, imageManifest(config, [layer])) })
    }
    // lots of garbage: images pushed and deleted
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 150; i++) {
          const config = Buffer.from(`{"w":${w},"i":${i}}`)
          const layer = randomBytes(1024)
          for (const blob of [config, layer]) await fetch(`${server.http}/v2/crash/junk${w}/blobs/uploads/?digest=${digestOf(blob)}`, { method: 'POST', body: Uint8Array.from(blob) })
          const digest = await pushManifestHttp(server.http, `crash/junk${w}`, 'latest', imageManifest(config, [layer]))
          await fetch(`${server.http}/v2/crash/junk${w}/manifests/${digest}`, { method: 'DELETE' })
        }
      }),
    )
    const gc = runBerth(['gc', '--json', '--data-dir', dataDir])
    await sleep(350)
    await server.kill9()
    await gc

    const fsck = await runBerth(['fsck', '--data-dir', dataDir])
    assert.equal(fsck.code, 0, fsck.stdout)
    server = await startBerth(dataDir)
    for (const k of keep) {
      const pulled = await pullImageHttp(server.http, 'crash/keep', k.tag)
      assert.equal(pulled.digest, k.digest)
      for (const b of pulled.blobs) assert.equal(b.actual, b.expected)
    }
    const next = await runBerth(['gc', '--json', '--data-dir', dataDir])
    assert.equal(next.code, 0, next.stderr)
    const after = await runBerth(['gc', '--dry-run', '--json', '--data-dir', dataDir])
    assert.deepEqual(JSON.parse(after.stdout), { manifests: 0, blobs: 0, bytes: 0, uploads: 0, repositories: 0 })
    assert.equal(await server.stop(), 0)
    assert.equal((await runBerth(['fsck', '--data-dir', dataDir])).code, 0)
  })

  it('`berth gc --dry-run --json` and `berth gc --json` agree on a real store, online and offline', async () => {
    for (const online of [true, false]) {
      const dataDir = tempDir()
      const server = await startBerth(dataDir)
      for (let i = 0; i < 6; i++) {
        const config = Buffer.from(`{"i":${i}}`)
        const layer = randomBytes(4096 + i)
        for (const blob of [config, layer]) await fetch(`${server.http}/v2/agree/blobs/uploads/?digest=${digestOf(blob)}`, { method: 'POST', body: Uint8Array.from(blob) })
        await pushManifestHttp(server.http, 'agree', `t${i}`, imageManifest(config, [layer]))
      }
      for (const ref of ['agree:t0', 'agree:t1', 'agree:t2']) assert.equal((await runBerth(['delete', ref, '--data-dir', dataDir])).code, 0)
      if (!online) assert.equal(await server.stop(), 0)
      const dry = await runBerth(['gc', '--dry-run', '--untagged', '--json', '--data-dir', dataDir])
      const real = await runBerth(['gc', '--untagged', '--json', '--data-dir', dataDir])
      assert.equal(real.code, 0, real.stderr)
      assert.deepEqual(JSON.parse(real.stdout), JSON.parse(dry.stdout))
      assert.equal(JSON.parse(real.stdout).manifests, 3)
      assert.equal(JSON.parse(real.stdout).blobs, 6)
      const undo = await runBerth(['undo', '--data-dir', dataDir])
      assert.equal(undo.code, 2)
      assert.match(undo.stderr, /too late to undo/)
      if (online) assert.equal(await server.stop(), 0)
    }
  })
})
