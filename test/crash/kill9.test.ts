// A crash (kill -9) at any moment leaves a store that fsck finds clean, where every
// acknowledged push still pulls with equal digests and uploads resume or are cleanly gone.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import { runBerth, startBerth, type BerthServer } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { digestOf, imageManifest, pullImageHttp, pushBlobHttp, pushManifestHttp, slowPatch } from '../helpers/http-client'

const MiB = 1 << 20

async function assertFsckClean(dataDir: string): Promise<void> {
  const result = await runBerth(['fsck', '--data-dir', dataDir])
  assert.equal(result.code, 0, `fsck after the crash:\n${result.stdout}${result.stderr}`)
}

interface Acknowledged {
  repository: string
  tag: string
  digest: string
}

/** Pushes images in a loop until the server dies, recording only the pushes it acknowledged. */
async function pushUntilCrash(server: BerthServer, worker: number, acknowledged: Acknowledged[]): Promise<void> {
  const base = server.http
  const shared = randomBytes(64 * 1024) // a layer every image shares
  for (let round = 0; ; round++) {
    try {
      const repository = `crash/w${worker}`
      const tag = `r${round}`
      const config = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', worker, round }))
      const layers = [shared, randomBytes(round % 3 === 0 ? 3 * MiB : 32 * 1024)]
      await pushBlobHttp(base, repository, config)
      for (const layer of layers) await pushBlobHttp(base, repository, layer)
      const digest = await pushManifestHttp(base, repository, tag, imageManifest(config, layers))
      acknowledged.push({ repository, tag, digest })
    } catch {
      return // the server is gone
    }
  }
}

describe('kill -9', () => {
  it('during a chunked upload: fsck is clean, the upload resumes, earlier pushes pull back equal', async () => {
    const dataDir = tempDir()
    let server = await startBerth(dataDir)
    const config = Buffer.from('{"os":"linux"}')
    const layer = randomBytes(2 * MiB)
    await pushBlobHttp(server.http, 'before', config)
    await pushBlobHttp(server.http, 'before', layer)
    const earlier = await pushManifestHttp(server.http, 'before', 'v1', imageManifest(config, [layer]))

    const blob = randomBytes(4 * MiB)
    const start = await fetch(`${server.http}/v2/chunked/blobs/uploads/`, { method: 'POST' })
    const uploadPath = start.headers.get('location')!
    let location = new URL(uploadPath, server.http).toString()
    const first = await fetch(location, { method: 'PATCH', body: blob.subarray(0, 2 * MiB), headers: { 'content-range': `0-${2 * MiB - 1}` } })
    assert.equal(first.status, 202)
    const inFlight = await slowPatch(location, blob.subarray(2 * MiB), { 'content-range': `${2 * MiB}-${4 * MiB - 1}` }, 700 * 1024)
    await sleep(300)
    await server.kill9()
    assert.ok((await inFlight.settled) instanceof Error, 'the in-flight chunk was cut off')

    await assertFsckClean(dataDir)
    server = await startBerth(dataDir)
    location = new URL(uploadPath, server.http).toString() // the restarted server has a new port
    const status = await fetch(location)
    if (status.status === 204) {
      const range = status.headers.get('range')!
      const have = Number(range.split('-')[1]) + 1
      assert.ok(have === 2 * MiB, `the session holds exactly the acknowledged chunk, not ${range}`)
      const rest = await fetch(location, { method: 'PATCH', body: blob.subarray(have), headers: { 'content-range': `${have}-${blob.length - 1}` } })
      assert.equal(rest.status, 202)
      const put = await fetch(`${location}?digest=${digestOf(blob)}`, { method: 'PUT' })
      assert.equal(put.status, 201)
      const back = Buffer.from(await (await fetch(`${server.http}/v2/chunked/blobs/${digestOf(blob)}`)).arrayBuffer())
      assert.equal(digestOf(back), digestOf(blob))
    } else {
      assert.equal(status.status, 404, 'a session is either resumable or cleanly gone')
    }
    const pulled = await pullImageHttp(server.http, 'before', 'v1')
    assert.equal(pulled.digest, earlier)
    for (const b of pulled.blobs) assert.equal(b.actual, b.expected)
    assert.equal(await server.stop(), 0)
    await assertFsckClean(dataDir)
  })

  for (const delay of [150, 400, 900]) {
    it(`during concurrent blob and manifest pushes (crash after ${delay} ms): fsck is clean and every acknowledged push pulls back`, async () => {
      const dataDir = tempDir()
      let server = await startBerth(dataDir)
      const acknowledged: Acknowledged[] = []
      const workers = [0, 1, 2, 3].map((w) => pushUntilCrash(server, w, acknowledged))
      await sleep(delay)
      await server.kill9()
      await Promise.all(workers)
      if (delay >= 400) assert.ok(acknowledged.length > 0, 'some pushes completed before the crash')

      await assertFsckClean(dataDir)
      server = await startBerth(dataDir)
      for (const push of acknowledged) {
        const pulled = await pullImageHttp(server.http, push.repository, push.tag)
        assert.equal(pulled.digest, push.digest)
        for (const b of pulled.blobs) assert.equal(b.actual, b.expected)
      }
      assert.equal(await server.stop(), 0)
      await assertFsckClean(dataDir)
    })
  }
})
