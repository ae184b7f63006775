// skopeo, podman and buildah pushing to and pulling from a running `berth serve` over plain HTTP.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { authority, runBerth, startBerth, type BerthServer } from '../helpers/berth-process'
import { buildImage, buildMultiArch, layoutDigest, missingTools, run, uniqueName } from '../helpers/containers'
import { tempDir } from '../helpers/fixtures'

const skip = await missingTools('skopeo', 'podman', 'buildah')
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']

function sha256File(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`
}

describe('real clients against berth serve', () => {
  let server: BerthServer
  let host: string
  let work: string

  before(async () => {
    if (skip) return
    work = tempDir('berth-clients-')
    server = await startBerth(tempDir())
    host = authority(server.http)
  })

  it('skopeo copies an image from an OCI layout to Berth and back with equal digests and bytes', { skip }, async () => {
    const image = await buildImage(work, { bytes: 24 << 20 })
    const source = join(work, uniqueName('src'))
    await run('buildah', ['push', '-q', image, `oci:${source}:app`])
    const ref = `docker://${host}/clients/skopeo:v1`
    await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${source}:app`, ref])

    const served = await fetch(`${server.http}/v2/clients/skopeo/manifests/v1`, { method: 'HEAD' })
    assert.equal(served.headers.get('docker-content-digest'), layoutDigest(source, 'app'))

    const back = join(work, uniqueName('back'))
    await run('skopeo', ['copy', '--src-tls-verify=false', ref, `oci:${back}:app`])
    assert.equal(layoutDigest(back, 'app'), layoutDigest(source, 'app'))
    const blobs = (dir: string) => readdirSync(join(dir, 'blobs', 'sha256')).sort()
    assert.deepEqual(blobs(back), blobs(source))
    for (const blob of blobs(back)) assert.equal(sha256File(join(back, 'blobs', 'sha256', blob)), `sha256:${blob}`)
  })

  it('skopeo copies a multi-arch index to Berth and back (--all) with equal digests', { skip }, async () => {
    const list = await buildMultiArch(work)
    const source = join(work, uniqueName('multi'))
    await run('buildah', ['manifest', 'push', '--all', '-q', list, `oci:${source}:multi`])
    const ref = `docker://${host}/clients/multi:v1`
    await run('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${source}:multi`, ref])
    const back = join(work, uniqueName('multi-back'))
    await run('skopeo', ['copy', '--all', '--src-tls-verify=false', ref, `oci:${back}:multi`])
    assert.equal(layoutDigest(back, 'multi'), layoutDigest(source, 'multi'))

    const raw = JSON.parse(await run('skopeo', ['inspect', '--raw', '--tls-verify=false', ref])) as { manifests: { digest: string; platform: { architecture: string } }[] }
    assert.deepEqual(raw.manifests.map((m) => m.platform.architecture).sort(), ['amd64', 'arm64'])
    for (const child of raw.manifests) {
      const response = await fetch(`${server.http}/v2/clients/multi/manifests/${child.digest}`)
      assert.equal(response.status, 200)
      assert.equal(response.headers.get('docker-content-digest'), child.digest)
    }
  })

  it('podman pushes an image built with buildah and pulls it back with the same image ID', { skip }, async () => {
    const image = await buildImage(work, { bytes: 2 << 20 })
    const ref = `${host}/clients/podman:${uniqueName('t')}`
    await run('podman', ['push', '--tls-verify=false', image, ref])
    const pushed = (await run('podman', ['image', 'inspect', '--format', '{{.Id}}', image])).trim()
    const tags = await (await fetch(`${server.http}/v2/clients/podman/tags/list`)).json()
    assert.ok(tags.tags.includes(ref.split(':').at(-1)))

    // remove every local name so the pull downloads the image again
    await run('podman', ['rmi', '-f', ref, image])
    await run('podman', ['pull', '-q', '--tls-verify=false', ref])
    const pulledId = (await run('podman', ['image', 'inspect', '--format', '{{.Id}}', ref])).trim()
    const repoDigests = JSON.parse(await run('podman', ['image', 'inspect', '--format', '{{json .RepoDigests}}', ref])) as string[]
    await run('podman', ['rmi', '-f', ref]).catch(() => {})
    assert.equal(pulledId, pushed)
    const served = await fetch(`${server.http}/v2/clients/podman/manifests/${ref.split(':').at(-1)}`, { method: 'HEAD' })
    assert.ok(repoDigests.includes(`${host}/clients/podman@${served.headers.get('docker-content-digest')}`), repoDigests.join(' '))
  })

  it('buildah manifest push --all stores the index and every platform image', { skip }, async () => {
    const list = await buildMultiArch(work)
    const ref = `docker://${host}/clients/buildah:multi`
    await run('buildah', ['manifest', 'push', '--all', '--tls-verify=false', list, ref])
    const response = await fetch(`${server.http}/v2/clients/buildah/manifests/multi`)
    assert.equal(response.status, 200)
    assert.ok(INDEX_TYPES.includes(response.headers.get('content-type') ?? ''))
    const index = (await response.json()) as { manifests: { digest: string; platform: { architecture: string } }[] }
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture).sort(), ['amd64', 'arm64'])
    for (const child of index.manifests) {
      const manifest = await (await fetch(`${server.http}/v2/clients/buildah/manifests/${child.digest}`)).json()
      for (const blob of [manifest.config, ...manifest.layers]) {
        const bytes = Buffer.from(await (await fetch(`${server.http}/v2/clients/buildah/blobs/${blob.digest}`)).arrayBuffer())
        assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, blob.digest)
      }
    }
  })

  it('leaves a store that fsck finds clean', { skip }, async () => {
    const result = await runBerth(['fsck', '--data-dir', server.dataDir])
    assert.equal(result.code, 0, result.stdout)
    assert.equal(await server.stop(), 0)
  })
})
