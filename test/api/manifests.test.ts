import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  errorCode,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  randomBlob,
  sha256,
  startRegistry,
} from '../helpers/fixtures'

type App = Awaited<ReturnType<typeof startRegistry>>['app']

function putManifest(app: App, repository: string, reference: string, body: string | Buffer, contentType = OCI_MANIFEST) {
  return app.inject({ method: 'PUT', url: `/v2/${repository}/manifests/${reference}`, payload: body, headers: { 'content-type': contentType } })
}

async function configAndLayer(app: App, repository: string) {
  const config = Buffer.from('{"architecture":"arm64","os":"linux"}')
  const layer = randomBlob(777)
  await pushBlob(app, repository, config)
  await pushBlob(app, repository, layer)
  return {
    config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
    layer: { mediaType: OCI_LAYER, digest: sha256(layer), size: layer.length },
  }
}

describe('manifests', () => {
  it('PUT by tag answers 201 with Location and digest; GET and HEAD by tag and digest return it', async () => {
    const { app } = await startRegistry()
    const { config, layer } = await configAndLayer(app, 'repo')
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] })
    const digest = sha256(body)
    const put = await putManifest(app, 'repo', 'v1', body)
    assert.equal(put.statusCode, 201)
    assert.equal(put.headers.location, `/v2/repo/manifests/${digest}`)
    assert.equal(put.headers['docker-content-digest'], digest)
    for (const reference of ['v1', digest]) {
      const get = await app.inject({ method: 'GET', url: `/v2/repo/manifests/${reference}`, headers: { accept: OCI_MANIFEST } })
      assert.equal(get.statusCode, 200)
      assert.equal(get.headers['content-type'], OCI_MANIFEST)
      assert.equal(get.headers['docker-content-digest'], digest)
      assert.equal(get.body, body)
      const head = await app.inject({ method: 'HEAD', url: `/v2/repo/manifests/${reference}` })
      assert.equal(head.statusCode, 200)
      assert.equal(head.headers['content-length'], String(Buffer.byteLength(body)))
      assert.equal(head.headers['docker-content-digest'], digest)
    }
  })

  it('PUT by digest stores an untagged manifest; a wrong digest is DIGEST_INVALID', async () => {
    const { app } = await startRegistry()
    const { config } = await configAndLayer(app, 'repo')
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] })
    const put = await putManifest(app, 'repo', sha256(body), body)
    assert.equal(put.statusCode, 201)
    const tags = await app.inject({ method: 'GET', url: '/v2/repo/tags/list' })
    assert.deepEqual(JSON.parse(tags.body).tags, [])
    const wrong = await putManifest(app, 'repo', sha256('other'), body)
    assert.equal(wrong.statusCode, 400)
    assert.equal(errorCode(wrong), 'DIGEST_INVALID')
    const malformed = await putManifest(app, 'repo', 'sha256:totallywrong', '{}')
    assert.equal(malformed.statusCode, 400)
    assert.equal(errorCode(malformed), 'DIGEST_INVALID')
  })

  it('keeps the exact bytes pushed (whitespace and key order)', async () => {
    const { app } = await startRegistry()
    const { config } = await configAndLayer(app, 'repo')
    const body = `{\n  "layers": [],\n  "config": ${JSON.stringify(config)},\n  "schemaVersion": 2\n}\n`
    assert.equal((await putManifest(app, 'repo', 'pretty', body)).statusCode, 201)
    const get = await app.inject({ method: 'GET', url: '/v2/repo/manifests/pretty' })
    assert.equal(get.body, body)
    assert.equal(get.headers['docker-content-digest'], sha256(body))
  })

  it('refuses invalid manifests with MANIFEST_INVALID', async () => {
    const { app } = await startRegistry()
    const { config, layer } = await configAndLayer(app, 'repo')
    const cases: [string, string, string?][] = [
      ['not json', '{nope'],
      ['array', '[]'],
      ['schemaVersion 1', JSON.stringify({ schemaVersion: 1, config, layers: [] })],
      ['no config', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [layer] })],
      ['bad descriptor digest', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, digest: 'sha256:xyz' }, layers: [] })],
      ['negative size', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, size: -1 }, layers: [] })],
      ['size differs from the blob', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { ...config, size: config.size + 1 }, layers: [] })],
      ['mediaType differs from Content-Type', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }), OCI_MANIFEST],
      ['unknown media type', JSON.stringify({ schemaVersion: 2, config, layers: [] }), 'application/x-unknown'],
      ['annotations not strings', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [], annotations: { a: 1 } })],
    ]
    for (const [what, body, type] of cases) {
      const response = await putManifest(app, 'repo', 'bad', body, type)
      assert.equal(response.statusCode, 400, what)
      assert.equal(errorCode(response), 'MANIFEST_INVALID', what)
    }
    assert.equal((await app.inject({ method: 'GET', url: '/v2/repo/manifests/bad' })).statusCode, 404)
  })

  it('refuses a manifest whose blobs are not in the repository: MANIFEST_BLOB_UNKNOWN', async () => {
    const { app } = await startRegistry()
    const { config, layer } = await configAndLayer(app, 'elsewhere')
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] })
    const response = await putManifest(app, 'repo', 'v1', body)
    assert.equal(response.statusCode, 404)
    assert.equal(errorCode(response), 'MANIFEST_BLOB_UNKNOWN')
  })

  it('accepts non-distributable layers that live elsewhere', async () => {
    const { app } = await startRegistry()
    const { config } = await configAndLayer(app, 'repo')
    const foreign = {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      digest: sha256('windows base layer'),
      size: 123,
      urls: ['https://example.invalid/layer'],
    }
    const body = JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: { ...config, mediaType: 'application/vnd.docker.container.image.v1+json' }, layers: [foreign] })
    assert.equal((await putManifest(app, 'repo', 'win', body, DOCKER_MANIFEST)).statusCode, 201)
  })

  it('stores OCI indexes, Docker manifests and Docker manifest lists with their media types', async () => {
    const { app } = await startRegistry()
    const { config, layer } = await configAndLayer(app, 'repo')
    const docker = JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: { ...config, mediaType: 'application/vnd.docker.container.image.v1+json' }, layers: [{ ...layer, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }] })
    assert.equal((await putManifest(app, 'repo', 'docker', docker, DOCKER_MANIFEST)).statusCode, 201)
    const oci = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [layer] })
    assert.equal((await putManifest(app, 'repo', 'oci', oci)).statusCode, 201)

    const platform = { os: 'linux', architecture: 'arm64' }
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256(oci), size: Buffer.byteLength(oci), platform }] })
    const list = JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: sha256(docker), size: Buffer.byteLength(docker), platform }] })
    assert.equal((await putManifest(app, 'repo', 'index', index, OCI_INDEX)).statusCode, 201)
    assert.equal((await putManifest(app, 'repo', 'list', list, DOCKER_LIST)).statusCode, 201)
    for (const [tag, type] of [['docker', DOCKER_MANIFEST], ['oci', OCI_MANIFEST], ['index', OCI_INDEX], ['list', DOCKER_LIST]]) {
      const get = await app.inject({ method: 'GET', url: `/v2/repo/manifests/${tag}` })
      assert.equal(get.headers['content-type'], type, tag)
    }
  })

  it('refuses an index whose child manifests are not in the repository', async () => {
    const { app } = await startRegistry()
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('missing child'), size: 10 }] })
    const response = await putManifest(app, 'repo', 'multi', index, OCI_INDEX)
    assert.equal(response.statusCode, 404)
    assert.equal(errorCode(response), 'MANIFEST_BLOB_UNKNOWN')
  })

  it('answers an artifact with a subject with the OCI-Subject header, even before the subject exists', async () => {
    const { app } = await startRegistry()
    const subject = sha256('a subject pushed later')
    const empty = Buffer.from('{}')
    await pushBlob(app, 'repo', empty)
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.sbom',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 }],
      subject: { mediaType: OCI_MANIFEST, digest: subject, size: 100 },
    })
    const put = await putManifest(app, 'repo', sha256(body), body)
    assert.equal(put.statusCode, 201)
    assert.equal(put.headers['oci-subject'], subject)
  })

  it('refuses a manifest over 4 MiB with 413 and stores nothing', async () => {
    const { app } = await startRegistry()
    const { config } = await configAndLayer(app, 'repo')
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [], annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } })
    const response = await putManifest(app, 'repo', 'huge', body)
    assert.equal(response.statusCode, 413)
    assert.equal(errorCode(response), 'SIZE_INVALID')
    assert.equal((await app.inject({ method: 'GET', url: '/v2/repo/manifests/huge' })).statusCode, 404)
  })

  it('refuses an invalid tag with TAG_INVALID', async () => {
    const { app } = await startRegistry()
    const response = await putManifest(app, 'repo', '-bad', '{}')
    assert.equal(response.statusCode, 400)
    assert.equal(errorCode(response), 'TAG_INVALID')
  })

  it('answers unknown manifests with MANIFEST_UNKNOWN and unknown repositories with NAME_UNKNOWN', async () => {
    const { app } = await startRegistry()
    await pushImage(app, 'repo', 'v1')
    const unknownTag = await app.inject({ method: 'GET', url: '/v2/repo/manifests/nope' })
    assert.equal(unknownTag.statusCode, 404)
    assert.equal(errorCode(unknownTag), 'MANIFEST_UNKNOWN')
    const unknownDigest = await app.inject({ method: 'HEAD', url: `/v2/repo/manifests/${sha256('x')}` })
    assert.equal(unknownDigest.statusCode, 404)
    const unknownRepo = await app.inject({ method: 'GET', url: '/v2/nothing/here/manifests/v1' })
    assert.equal(unknownRepo.statusCode, 404)
    assert.equal(errorCode(unknownRepo), 'NAME_UNKNOWN')
  })

  it('moves a tag when a new manifest is pushed under it', async () => {
    const { app } = await startRegistry()
    await pushImage(app, 'repo', 'latest')
    const second = await pushImage(app, 'repo', 'latest')
    const get = await app.inject({ method: 'GET', url: '/v2/repo/manifests/latest' })
    assert.equal(get.headers['docker-content-digest'], second.digest)
  })

  it('DELETE by tag removes only the tag; DELETE by digest removes the manifest and its tags', async () => {
    const { app } = await startRegistry()
    const image = await pushImage(app, 'repo', 'a')
    await putManifest(app, 'repo', 'b', image.manifest)
    await putManifest(app, 'repo', 'c', image.manifest)

    const byTag = await app.inject({ method: 'DELETE', url: '/v2/repo/manifests/a' })
    assert.equal(byTag.statusCode, 202)
    assert.equal((await app.inject({ method: 'GET', url: '/v2/repo/manifests/a' })).statusCode, 404)
    assert.equal((await app.inject({ method: 'GET', url: `/v2/repo/manifests/${image.digest}` })).statusCode, 200)
    assert.deepEqual(JSON.parse((await app.inject({ method: 'GET', url: '/v2/repo/tags/list' })).body).tags, ['b', 'c'])

    const byDigest = await app.inject({ method: 'DELETE', url: `/v2/repo/manifests/${image.digest}` })
    assert.equal(byDigest.statusCode, 202)
    assert.equal((await app.inject({ method: 'GET', url: `/v2/repo/manifests/${image.digest}` })).statusCode, 404)
    assert.deepEqual(JSON.parse((await app.inject({ method: 'GET', url: '/v2/repo/tags/list' })).body).tags, [])

    const again = await app.inject({ method: 'DELETE', url: '/v2/repo/manifests/a' })
    assert.equal(again.statusCode, 404)
    assert.equal(errorCode(again), 'MANIFEST_UNKNOWN')
  })

  it('with deletes off, manifest DELETE answers 405 UNSUPPORTED and keeps everything', async () => {
    const { app } = await startRegistry({ deleteEnabled: false })
    const image = await pushImage(app, 'repo', 'keep')
    for (const reference of ['keep', image.digest]) {
      const response = await app.inject({ method: 'DELETE', url: `/v2/repo/manifests/${reference}` })
      assert.equal(response.statusCode, 405)
      assert.equal(errorCode(response), 'UNSUPPORTED')
    }
    assert.equal((await app.inject({ method: 'GET', url: '/v2/repo/manifests/keep' })).statusCode, 200)
  })

  it('records push and pull events with the client user agent', async () => {
    const { app, store } = await startRegistry()
    const image = await pushImage(app, 'repo', 'v1')
    await app.inject({ method: 'GET', url: '/v2/repo/manifests/v1', headers: { 'user-agent': 'skopeo/1.9' } })
    const events = store.events.recent(10)
    assert.equal(events[0].kind, 'pull')
    assert.equal(events[0].userAgent, 'skopeo/1.9')
    assert.equal(events[0].digest, image.digest)
    assert.equal(events[1].kind, 'push')
    assert.equal(events[1].reference, 'v1')
  })
})
