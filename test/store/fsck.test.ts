import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { StoreLayout } from '../../server/store/layout'
import { parseDigest } from '../../server/store/references'
import { runBerth, startBerth } from '../helpers/berth-process'
import { pushBlob, pushImage, randomBlob, sha256, startRegistry } from '../helpers/fixtures'

function blobFile(dataDir: string, digest: string): string {
  return new StoreLayout(dataDir).blobPath(parseDigest(digest)!)
}

/** A store with one image and one loose blob, closed so the CLI can open it. */
async function populatedStore() {
  const registry = await startRegistry()
  const image = await pushImage(registry.app, 'repo', 'v1', { layers: [randomBlob(5000), randomBlob(3000)] })
  const loose = await pushBlob(registry.app, 'repo', randomBlob(100))
  await registry.app.close()
  registry.store.close()
  return { dataDir: registry.dataDir, image, loose }
}

describe('berth fsck', () => {
  it('reports a healthy store clean (exit 0), in words and in JSON', async () => {
    const { dataDir } = await populatedStore()
    const text = await runBerth(['fsck', '--data-dir', dataDir])
    assert.equal(text.code, 0, text.stdout + text.stderr)
    assert.match(text.stdout, /4 blobs .* 1 manifests, 1 tags/)
    assert.match(text.stdout, /berth: fsck clean/)
    const json = await runBerth(['fsck', '--data-dir', dataDir, '--json'])
    const report = JSON.parse(json.stdout)
    assert.equal(report.clean, true)
    assert.equal(report.checked.blobs, 4)
    assert.deepEqual(report.problems, [])
  })

  it('finds a blob whose bytes no longer match its digest (exit 1); --repair keeps what a manifest references', async () => {
    const { dataDir, image } = await populatedStore()
    const layer = sha256(image.layers[0])
    writeFileSync(blobFile(dataDir, layer), randomBlob(5000))
    const result = await runBerth(['fsck', '--data-dir', dataDir, '--json'])
    assert.equal(result.code, 1)
    const problems = JSON.parse(result.stdout).problems
    assert.equal(problems.length, 1)
    assert.equal(problems[0].kind, 'blob-corrupt')
    assert.equal(problems[0].subject, layer)
    assert.equal(problems[0].repairable, false)
    const repair = await runBerth(['fsck', '--data-dir', dataDir, '--repair'])
    assert.equal(repair.code, 1)
    assert.ok(existsSync(blobFile(dataDir, layer)), 'a referenced blob is never removed')
  })

  it('--repair removes a corrupt blob nothing references, after which fsck is clean', async () => {
    const { dataDir, loose } = await populatedStore()
    writeFileSync(blobFile(dataDir, loose), 'truncated')
    assert.equal((await runBerth(['fsck', '--data-dir', dataDir])).code, 1)
    const repair = await runBerth(['fsck', '--data-dir', dataDir, '--repair'])
    assert.equal(repair.code, 0, repair.stdout)
    assert.match(repair.stdout, /repaired: blob-corrupt/)
    assert.equal(existsSync(blobFile(dataDir, loose)), false)
    assert.equal((await runBerth(['fsck', '--data-dir', dataDir])).code, 0)
  })

  it('finds files without rows and rows without files', async () => {
    const { dataDir, image } = await populatedStore()
    const orphan = sha256('orphan bytes')
    mkdirSync(dirname(blobFile(dataDir, orphan)), { recursive: true })
    writeFileSync(blobFile(dataDir, orphan), 'orphan bytes')
    writeFileSync(join(dataDir, 'blobs', 'stray.tmp'), 'x')
    rmSync(blobFile(dataDir, sha256(image.config)))
    const result = await runBerth(['fsck', '--data-dir', dataDir, '--json'])
    assert.equal(result.code, 1)
    const kinds = JSON.parse(result.stdout).problems.map((p: { kind: string }) => p.kind).sort()
    assert.deepEqual(kinds, ['blob-file-missing', 'orphan-blob-file', 'unexpected-file'])
    const repair = await runBerth(['fsck', '--data-dir', dataDir, '--repair', '--json'])
    const after = JSON.parse(repair.stdout)
    assert.deepEqual(after.problems.map((p: { kind: string }) => p.kind), ['blob-file-missing'], 'the referenced config stays reported')
    assert.equal(existsSync(blobFile(dataDir, orphan)), false)
    assert.equal(existsSync(join(dataDir, 'blobs', 'stray.tmp')), false)
  })

  it('asks the running server (online) and sees damage made while it runs', async () => {
    const { dataDir, loose } = await populatedStore()
    const server = await startBerth(dataDir)
    assert.equal((await runBerth(['fsck', '--data-dir', dataDir])).code, 0)
    writeFileSync(blobFile(dataDir, loose), 'damaged')
    const result = await runBerth(['fsck', '--data-dir', dataDir, '--json'])
    assert.equal(result.code, 1)
    assert.equal(JSON.parse(result.stdout).problems[0].subject, loose)
    assert.equal(await server.stop(), 0)
  })

  it('usage errors exit 2', async () => {
    const result = await runBerth(['fsck', '--nope'])
    assert.equal(result.code, 2)
  })
})

describe('recovery on open', () => {
  it('finishes a commit interrupted between the rename and the row', async () => {
    const registry = await startRegistry()
    const data = randomBlob(2048)
    const digest = sha256(data)
    const session = await registry.store.uploads.create('repo')
    // The state a crash leaves: the session marked committing, the bytes renamed into place.
    registry.store.db.prepare('UPDATE uploads SET committing_digest = ? WHERE id = ?').run(digest, session.id)
    rmSync(new StoreLayout(registry.dataDir).uploadPath(session.id))
    mkdirSync(dirname(blobFile(registry.dataDir, digest)), { recursive: true })
    writeFileSync(blobFile(registry.dataDir, digest), data)
    await registry.restart()
    assert.equal(registry.store.recovery.commitsFinished, 1)
    const get = await registry.app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}` })
    assert.equal(get.statusCode, 200)
    assert.equal(sha256(get.rawPayload), digest)
    assert.equal((await registry.store.fsck()).clean, true)
  })

  it('drops upload files without a session and sessions without a file', async () => {
    const registry = await startRegistry()
    const kept = await registry.store.uploads.create('repo')
    const lost = await registry.store.uploads.create('repo')
    const layout = new StoreLayout(registry.dataDir)
    rmSync(layout.uploadPath(lost.id))
    writeFileSync(join(layout.uploadsDir, '0b1e9e2a-6f8e-4a1c-9a7e-1d2c3b4a5f6e'), 'leftover')
    await registry.restart()
    assert.deepEqual(readdirSync(layout.uploadsDir), [kept.id])
    const status = await registry.app.inject({ method: 'GET', url: `/v2/repo/blobs/uploads/${lost.id}` })
    assert.equal(status.statusCode, 404)
    assert.equal((await registry.store.fsck()).clean, true)
  })
})
