// A minimal registry client over real HTTP, for tests that drive a running server.
import { createHash, randomBytes } from 'node:crypto'
import { request } from 'node:http'

export function digestOf(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

export async function pushBlobHttp(base: string, repository: string, data: Buffer): Promise<string> {
  const digest = digestOf(data)
  const response = await fetch(`${base}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    body: Uint8Array.from(data),
    headers: { 'content-type': 'application/octet-stream' },
  })
  if (response.status !== 201) throw new Error(`blob push: ${response.status} ${await response.text()}`)
  return digest
}

export async function pushManifestHttp(base: string, repository: string, reference: string, manifest: string): Promise<string> {
  const response = await fetch(`${base}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  })
  if (response.status !== 201) throw new Error(`manifest push: ${response.status} ${await response.text()}`)
  return response.headers.get('docker-content-digest')!
}

export function imageManifest(config: Buffer, layers: Buffer[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(l), size: l.length })),
  })
}

/** Pulls a tag and every blob it names, returning the digests of what came back. */
export async function pullImageHttp(base: string, repository: string, reference: string) {
  const response = await fetch(`${base}/v2/${repository}/manifests/${reference}`)
  if (response.status !== 200) throw new Error(`pull ${repository}:${reference}: ${response.status} ${await response.text()}`)
  const bytes = Buffer.from(await response.arrayBuffer())
  const manifest = JSON.parse(bytes.toString()) as { config: { digest: string }; layers: { digest: string }[] }
  const blobs: { expected: string; actual: string }[] = []
  for (const descriptor of [manifest.config, ...manifest.layers]) {
    const blob = await fetch(`${base}/v2/${repository}/blobs/${descriptor.digest}`)
    if (blob.status !== 200) throw new Error(`blob ${descriptor.digest}: ${blob.status}`)
    blobs.push({ expected: descriptor.digest, actual: digestOf(Buffer.from(await blob.arrayBuffer())) })
  }
  return { digest: digestOf(bytes), blobs }
}

/**
 * Starts a PATCH whose body is sent slowly, so a test can act while it is in flight.
 * Resolves once `sentBytes` have been written; the request keeps going until `finish`.
 */
export function slowPatch(url: string, body: Buffer, headers: Record<string, string>, sentBytes: number) {
  return new Promise<{ settled: Promise<number | Error> }>((resolve) => {
    const req = request(url, { method: 'PATCH', headers: { 'content-length': String(body.length), 'content-type': 'application/octet-stream', ...headers } })
    const settled = new Promise<number | Error>((done) => {
      req.on('response', (res) => {
        res.resume()
        done(res.statusCode ?? 0)
      })
      req.on('error', (error) => done(error))
    })
    req.write(body.subarray(0, sentBytes), () => resolve({ settled }))
  })
}

/** Pushes a small image of random bytes (one config, one layer) as REPOSITORY:TAG; returns the manifest digest. */
export async function pushImage(base: string, repository: string, tag: string, options: { layerBytes?: number } = {}): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: new Date().toISOString(), nonce: Math.random() }))
  const layer = randomBytes(options.layerBytes ?? 1000)
  await pushBlobHttp(base, repository, config)
  await pushBlobHttp(base, repository, layer)
  return pushManifestHttp(base, repository, tag, imageManifest(config, [layer]))
}
