import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { errorCode, OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, sha256, startRegistry } from '../helpers/fixtures'

type App = Awaited<ReturnType<typeof startRegistry>>['app']
const EMPTY = Buffer.from('{}')
const emptyDescriptor = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(EMPTY), size: 2 }

async function pushReferrer(app: App, subject: { digest: string; size: number }, options: { artifactType?: string; configType?: string; note: string }) {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: { ...emptyDescriptor, ...(options.configType ? { mediaType: options.configType } : {}) },
    layers: [emptyDescriptor],
    subject: { mediaType: OCI_MANIFEST, ...subject },
    annotations: { 'org.example.note': options.note },
  })
  const response = await app.inject({ method: 'PUT', url: `/v2/repo/manifests/${sha256(body)}`, payload: body, headers: { 'content-type': OCI_MANIFEST } })
  assert.equal(response.statusCode, 201, response.body)
  return { digest: sha256(body), size: Buffer.byteLength(body) }
}

describe('referrers', () => {
  it('answers an empty index for a digest with no referrers', async () => {
    const { app } = await startRegistry()
    const response = await app.inject({ method: 'GET', url: `/v2/repo/referrers/${sha256('nothing')}` })
    assert.equal(response.statusCode, 200)
    assert.equal(response.headers['content-type'], OCI_INDEX)
    assert.deepEqual(JSON.parse(response.body), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })
  })

  it('lists referrers with artifactType (or the config type) and annotations, and filters by artifactType', async () => {
    const { app } = await startRegistry()
    await pushBlob(app, 'repo', EMPTY)
    const image = await pushImage(app, 'repo', 'v1')
    const subject = { digest: image.digest, size: Buffer.byteLength(image.manifest) }
    const sbom = await pushReferrer(app, subject, { artifactType: 'application/vnd.example.sbom', note: 'sbom' })
    const signature = await pushReferrer(app, subject, { configType: 'application/vnd.example.signature', note: 'sig' })
    const all = await app.inject({ method: 'GET', url: `/v2/repo/referrers/${image.digest}` })
    assert.equal(all.statusCode, 200)
    assert.equal(all.headers['oci-filters-applied'], undefined)
    const manifests = JSON.parse(all.body).manifests as { digest: string; artifactType: string; annotations: Record<string, string>; size: number; mediaType: string }[]
    const byDigest = new Map(manifests.map((m) => [m.digest, m]))
    assert.equal(manifests.length, 2)
    assert.equal(byDigest.get(sbom.digest)?.artifactType, 'application/vnd.example.sbom')
    assert.deepEqual(byDigest.get(sbom.digest)?.annotations, { 'org.example.note': 'sbom' })
    assert.equal(byDigest.get(sbom.digest)?.size, sbom.size)
    assert.equal(byDigest.get(sbom.digest)?.mediaType, OCI_MANIFEST)
    assert.equal(byDigest.get(signature.digest)?.artifactType, 'application/vnd.example.signature')

    const filtered = await app.inject({ method: 'GET', url: `/v2/repo/referrers/${image.digest}?artifactType=application/vnd.example.sbom` })
    assert.equal(filtered.headers['oci-filters-applied'], 'artifactType')
    assert.deepEqual(JSON.parse(filtered.body).manifests.map((m: { digest: string }) => m.digest), [sbom.digest])
  })

  it('lists referrers pushed before their subject', async () => {
    const { app } = await startRegistry()
    await pushBlob(app, 'repo', EMPTY)
    const future = { digest: sha256('future subject'), size: 42 }
    const early = await pushReferrer(app, future, { artifactType: 'application/vnd.example.early', note: 'early' })
    const response = await app.inject({ method: 'GET', url: `/v2/repo/referrers/${future.digest}` })
    assert.deepEqual(JSON.parse(response.body).manifests.map((m: { digest: string }) => m.digest), [early.digest])
  })

  it('drops a deleted referrer from the list', async () => {
    const { app } = await startRegistry()
    await pushBlob(app, 'repo', EMPTY)
    const image = await pushImage(app, 'repo', 'v1')
    const ref = await pushReferrer(app, { digest: image.digest, size: 1 }, { artifactType: 'application/x', note: 'n' })
    await app.inject({ method: 'DELETE', url: `/v2/repo/manifests/${ref.digest}` })
    const response = await app.inject({ method: 'GET', url: `/v2/repo/referrers/${image.digest}` })
    assert.deepEqual(JSON.parse(response.body).manifests, [])
  })

  it('refuses a malformed digest with DIGEST_INVALID', async () => {
    const { app } = await startRegistry()
    const response = await app.inject({ method: 'GET', url: '/v2/repo/referrers/sha256:short' })
    assert.equal(response.statusCode, 400)
    assert.equal(errorCode(response), 'DIGEST_INVALID')
  })
})
