import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import { GarbageCollector, type GcProgress } from '../../server/gc/collector'
import { StoreLayout } from '../../server/store/layout'
import { parseDigest } from '../../server/store/references'
import { OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, randomBlob, sha256, startRegistry, type TestRegistry } from '../helpers/fixtures'

function blobOnDisk(registry: TestRegistry, digest: string): boolean {
  return existsSync(new StoreLayout(registry.dataDir).blobPath(parseDigest(digest)!))
}

async function pullsBack(registry: TestRegistry, repository: string, reference: string, expected: string) {
  const manifest = await registry.app.inject({ method: 'GET', url: `/v2/${repository}/manifests/${reference}` })
  assert.equal(manifest.statusCode, 200, `${repository}:${reference}`)
  assert.equal(sha256(manifest.rawPayload), expected)
  const parsed = JSON.parse(manifest.body)
  for (const d of [parsed.config, ...parsed.layers]) {
    const blob = await registry.app.inject({ method: 'GET', url: `/v2/${repository}/blobs/${d.digest}` })
    assert.equal(blob.statusCode, 200)
    assert.equal(sha256(blob.rawPayload), d.digest)
  }
}

const strip = ({ manifests, blobs, bytes, uploads, repositories }: { manifests: number; blobs: number; bytes: number; uploads: number; repositories: number }) => ({
  manifests,
  blobs,
  bytes,
  uploads,
  repositories,
})

describe('garbage collection', () => {
  it('frees exactly the unshared blobs of a deleted image; the other image pulls back equal; dry run == real run', async () => {
    const registry = await startRegistry()
    const base = [randomBlob(40_000), randomBlob(30_000)]
    const onlyA = randomBlob(10_000)
    const onlyB = randomBlob(20_000)
    const a = await pushImage(registry.app, 'app', 'a', { layers: [...base, onlyA] })
    const b = await pushImage(registry.app, 'app', 'b', { layers: [...base, onlyB] })
    registry.store.deletions.deleteManifest('app', a.digest)

    const gc = new GarbageCollector(registry.store)
    const dry = await gc.run({ dryRun: true })
    // the manifest itself went at delete time (its bytes live in SQLite); GC frees its blobs
    assert.deepEqual(strip(dry), { manifests: 0, blobs: 2, bytes: onlyA.length + a.config.length, uploads: 0, repositories: 0 })
    assert.ok(blobOnDisk(registry, sha256(onlyA)), 'a dry run removes nothing')
    const real = await gc.run({})
    assert.deepEqual(strip(real), strip(dry))

    assert.equal(blobOnDisk(registry, sha256(onlyA)), false)
    assert.equal(blobOnDisk(registry, sha256(a.config)), false)
    for (const layer of [...base, onlyB]) assert.ok(blobOnDisk(registry, sha256(layer)))
    await pullsBack(registry, 'app', 'b', b.digest)
    assert.equal((await registry.store.fsck()).clean, true)
    assert.deepEqual(strip(await gc.run({ dryRun: true })), { manifests: 0, blobs: 0, bytes: 0, uploads: 0, repositories: 0 })
  })

  it('keeps a manifest that lost its last tag unless --untagged', async () => {
    const registry = await startRegistry()
    const image = await pushImage(registry.app, 'app', 'v1')
    await pushImage(registry.app, 'app', 'v2')
    registry.store.deletions.deleteTag('app', 'v1')
    const gc = new GarbageCollector(registry.store)
    assert.equal((await gc.run({})).manifests, 0)
    assert.equal((await registry.app.inject({ method: 'GET', url: `/v2/app/manifests/${image.digest}` })).statusCode, 200, 'still pullable by digest')
    const untagged = await gc.run({ untagged: true })
    assert.equal(untagged.manifests, 1)
    assert.equal(untagged.blobs, 2)
    assert.equal((await registry.app.inject({ method: 'GET', url: `/v2/app/manifests/${image.digest}` })).statusCode, 404)
  })

  it('keeps a multi-arch index, its children and referrers until the index goes; then --untagged takes them all', async () => {
    const registry = await startRegistry()
    const { app } = registry
    const amd = await pushImage(app, 'multi', 'tmp-amd')
    const arm = await pushImage(app, 'multi', 'tmp-arm')
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: amd.digest, size: Buffer.byteLength(amd.manifest), platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: OCI_MANIFEST, digest: arm.digest, size: Buffer.byteLength(arm.manifest), platform: { os: 'linux', architecture: 'arm64' } },
      ],
    })
    assert.equal((await app.inject({ method: 'PUT', url: '/v2/multi/manifests/latest', payload: index, headers: { 'content-type': OCI_INDEX } })).statusCode, 201)
    registry.store.deletions.deleteTag('multi', 'tmp-amd')
    registry.store.deletions.deleteTag('multi', 'tmp-arm')
    const empty = Buffer.from('{}')
    await pushBlob(app, 'multi', empty)
    const referrers: string[] = []
    for (const type of ['application/vnd.example.signature', 'application/vnd.example.sbom']) {
      const payload = randomBlob(500)
      await pushBlob(app, 'multi', payload)
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: type,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 },
        layers: [{ mediaType: 'application/octet-stream', digest: sha256(payload), size: payload.length }],
        subject: { mediaType: OCI_INDEX, digest: sha256(index), size: Buffer.byteLength(index) },
      })
      assert.equal((await app.inject({ method: 'PUT', url: `/v2/multi/manifests/${sha256(body)}`, payload: body, headers: { 'content-type': OCI_MANIFEST } })).statusCode, 201)
      referrers.push(sha256(body))
    }
    const unrelated = await pushImage(app, 'other', 'gone')
    registry.store.deletions.deleteTag('other', 'gone')

    // grace 0: the referrers are not protected as fresh uploads; only what is kept keeps them
    const gc = new GarbageCollector(registry.store)
    const first = await gc.run({ untagged: true, graceMs: 0 })
    assert.equal(first.manifests, 1, 'only the unrelated image goes')
    assert.equal((await app.inject({ method: 'GET', url: `/v2/other/manifests/${unrelated.digest}` })).statusCode, 404)
    for (const digest of [sha256(index), amd.digest, arm.digest, ...referrers]) {
      assert.equal((await app.inject({ method: 'HEAD', url: `/v2/multi/manifests/${digest}` })).statusCode, 200, digest)
    }
    const listed = JSON.parse((await app.inject({ method: 'GET', url: `/v2/multi/referrers/${sha256(index)}` })).body)
    assert.equal(listed.manifests.length, 2)

    registry.store.deletions.deleteTag('multi', 'latest')
    const dry = await gc.run({ untagged: true, graceMs: 0, dryRun: true })
    const second = await gc.run({ untagged: true, graceMs: 0 })
    assert.deepEqual(strip(second), strip(dry))
    assert.equal(second.manifests, 5, 'index, two children, two referrers')
    assert.equal(first.repositories, 1, 'the unrelated repository was left empty')
    assert.equal(second.repositories, 1, 'and now this one')
    assert.deepEqual(JSON.parse((await app.inject({ method: 'GET', url: '/v2/_catalog' })).body).repositories, [])
    assert.equal((await registry.store.fsck()).clean, true)
  })

  it('never takes fresh content: a blob uploaded or mounted for a manifest not pushed yet', async () => {
    const registry = await startRegistry()
    const uploaded = await pushBlob(registry.app, 'wip', randomBlob(1000))
    const source = await pushBlob(registry.app, 'src', randomBlob(1000))
    await registry.app.inject({ method: 'POST', url: `/v2/wip/blobs/uploads/?mount=${source}&from=src` })
    const gc = new GarbageCollector(registry.store)
    assert.equal((await gc.run({})).blobs, 0)
    assert.equal((await registry.app.inject({ method: 'HEAD', url: `/v2/wip/blobs/${uploaded}` })).statusCode, 200)
    // once the grace window has passed, a blob no manifest ever used is garbage
    const late = await gc.run({ graceMs: 0 })
    assert.equal(late.blobs, 2)
  })

  it('a blob a client checks with HEAD before pushing its manifest survives a GC in between', async () => {
    const registry = await startRegistry()
    const shared = randomBlob(5000)
    const old = await pushImage(registry.app, 'app', 'old', { layers: [shared] })
    registry.store.deletions.deleteManifest('app', old.digest)
    // the next push finds the layer already there and skips uploading it
    assert.equal((await registry.app.inject({ method: 'HEAD', url: `/v2/app/blobs/${sha256(shared)}` })).statusCode, 200)
    await new GarbageCollector(registry.store).run({})
    const next = await pushImage(registry.app, 'app', 'new', { layers: [shared] })
    await pullsBack(registry, 'app', 'new', next.digest)
  })

  it('removes stale upload sessions and reports progress and history', async () => {
    const registry = await startRegistry()
    const stale = await registry.store.uploads.create('abandoned')
    await registry.store.uploads.create('active')
    registry.store.db.prepare('UPDATE uploads SET updated_at = 0 WHERE id = ?').run(stale.id)
    const phases: GcProgress[] = []
    const gc = new GarbageCollector(registry.store)
    const result = await gc.run({ onProgress: (p) => phases.push(p) })
    assert.equal(result.uploads, 1)
    assert.deepEqual([...new Set(phases.map((p) => p.phase))], ['mark', 'uploads', 'done'])
    assert.equal((await registry.app.inject({ method: 'GET', url: `/v2/abandoned/blobs/uploads/${stale.id}` })).statusCode, 404)
    const history = gc.history()
    assert.equal(history[0].runId, result.runId)
    assert.equal(history[0].uploads, 1)
  })
})

describe('undo', () => {
  it('restores a deleted tag and a deleted manifest (with its tags)', async () => {
    const registry = await startRegistry()
    const image = await pushImage(registry.app, 'app', 'v1')
    await registry.app.inject({ method: 'PUT', url: '/v2/app/manifests/stable', payload: image.manifest, headers: { 'content-type': OCI_MANIFEST } })
    const tag = registry.store.deletions.deleteTag('app', 'v1')
    assert.equal((await registry.app.inject({ method: 'GET', url: '/v2/app/manifests/v1' })).statusCode, 404)
    registry.store.deletions.undo(tag.id)
    await pullsBack(registry, 'app', 'v1', image.digest)

    registry.store.deletions.deleteManifest('app', image.digest)
    assert.equal((await registry.app.inject({ method: 'GET', url: '/v2/app/manifests/stable' })).statusCode, 404)
    registry.store.deletions.undo()
    await pullsBack(registry, 'app', 'stable', image.digest)
    await pullsBack(registry, 'app', 'v1', image.digest)
    assert.throws(() => registry.store.deletions.undo(tag.id), /already undone/)
  })

  it('restores a deleted repository', async () => {
    const registry = await startRegistry()
    const one = await pushImage(registry.app, 'team/app', 'one')
    const two = await pushImage(registry.app, 'team/app', 'two')
    registry.store.deletions.deleteRepository('team/app')
    assert.deepEqual(JSON.parse((await registry.app.inject({ method: 'GET', url: '/v2/_catalog' })).body).repositories, [])
    registry.store.deletions.undo()
    await pullsBack(registry, 'team/app', 'one', one.digest)
    await pullsBack(registry, 'team/app', 'two', two.digest)
  })

  it('deletes a selection of tags and an untagged manifest as one deletion; one undo restores all of it', async () => {
    const registry = await startRegistry()
    const one = await pushImage(registry.app, 'app', 'one')
    const two = await pushImage(registry.app, 'app', 'two')
    await pushImage(registry.app, 'app', 'keep')
    const record = registry.store.deletions.deleteSelection('app', ['one', 'two'], [two.digest])
    assert.equal(record.kind, 'selection')
    assert.equal(record.reference, '2 tags and 1 manifest')
    for (const gone of ['one', 'two', two.digest]) {
      assert.equal((await registry.app.inject({ method: 'HEAD', url: `/v2/app/manifests/${gone}` })).statusCode, 404, gone)
    }
    await pullsBack(registry, 'app', one.digest, one.digest)
    registry.store.deletions.undo(record.id)
    await pullsBack(registry, 'app', 'one', one.digest)
    await pullsBack(registry, 'app', 'two', two.digest)
    assert.equal(registry.store.deletions.stateOf(record.id), 'undone')
  })

  it('refuses a selection naming a tag that does not exist, deleting nothing', async () => {
    const registry = await startRegistry()
    const one = await pushImage(registry.app, 'app', 'one')
    assert.throws(() => registry.store.deletions.deleteSelection('app', ['one', 'nope'], []), /app:nope does not exist/)
    await pullsBack(registry, 'app', 'one', one.digest)
  })

  it('after a GC removed the content, says clearly that it is too late', async () => {
    const registry = await startRegistry()
    const image = await pushImage(registry.app, 'app', 'v1')
    const deletion = registry.store.deletions.deleteManifest('app', image.digest)
    await new GarbageCollector(registry.store).run({})
    assert.equal(registry.store.deletions.stateOf(deletion.id), 'permanent')
    assert.throws(() => registry.store.deletions.undo(deletion.id), /too late to undo: .*garbage collection on .* removed it/)
  })
})
