// Small fixtures shared by the tests: temp dirs, digests, and an in-process registry.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { atExit } from './cleanup'
import type { FastifyInstance } from 'fastify'
import { buildRegistryApp } from '../../server/registry/app'
import type { RegistryPolicy } from '../../server/registry/context'
import { Store } from '../../server/store/store'

/** A temp dir removed when the test file ends. Short, so a control socket fits in it. */
export function tempDir(prefix = 'berth-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  atExit(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

export function randomBlob(size: number): Buffer {
  return randomBytes(size)
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip'
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'

export interface TestRegistry {
  app: FastifyInstance
  store: Store
  dataDir: string
  /** Closes the app and store and opens new ones on the same data dir, as a restart would. */
  restart(): Promise<void>
}

/** An in-process registry on a fresh data dir, driven with app.inject(). */
export async function startRegistry(policy: Partial<RegistryPolicy> = {}): Promise<TestRegistry> {
  const dataDir = tempDir()
  const registry = {} as TestRegistry
  const open = async () => {
    registry.store = await Store.open(dataDir)
    registry.app = await buildRegistryApp({ store: registry.store, policy: { deleteEnabled: true, ...policy } })
  }
  await open()
  registry.dataDir = dataDir
  registry.restart = async () => {
    await registry.app.close()
    registry.store.close()
    await open()
  }
  after(async () => {
    await registry.app.close()
    registry.store.close()
  })
  return registry
}

/** Pushes a blob in one POST ?digest= request and returns its digest. */
export async function pushBlob(app: FastifyInstance, repository: string, data: Buffer): Promise<string> {
  const digest = sha256(data)
  const response = await app.inject({
    method: 'POST',
    url: `/v2/${repository}/blobs/uploads/?digest=${digest}`,
    payload: data,
    headers: { 'content-type': 'application/octet-stream' },
  })
  if (response.statusCode !== 201) throw new Error(`blob push failed: ${response.statusCode} ${response.body}`)
  return digest
}

export interface PushedImage {
  digest: string
  manifest: string
  config: Buffer
  layers: Buffer[]
}

/** Pushes a small OCI image (config + layers + manifest) under `tag`. */
export async function pushImage(
  app: FastifyInstance,
  repository: string,
  tag: string,
  options: { layers?: Buffer[]; extra?: Record<string, unknown> } = {},
): Promise<PushedImage> {
  const layers = options.layers ?? [randomBlob(1024)]
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBlob(8).toString('hex') }))
  await pushBlob(app, repository, config)
  for (const layer of layers) await pushBlob(app, repository, layer)
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
    layers: layers.map((layer) => ({ mediaType: OCI_LAYER, digest: sha256(layer), size: layer.length })),
    ...options.extra,
  })
  const response = await app.inject({
    method: 'PUT',
    url: `/v2/${repository}/manifests/${tag}`,
    payload: manifest,
    headers: { 'content-type': OCI_MANIFEST },
  })
  if (response.statusCode !== 201) throw new Error(`manifest push failed: ${response.statusCode} ${response.body}`)
  return { digest: sha256(manifest), manifest, config, layers }
}

/** The OCI error code of a response, asserting the spec's error body shape. */
export function errorCode(response: { headers: Record<string, unknown>; body: string }): string {
  const body = JSON.parse(response.body) as { errors: { code: string; message: string }[] }
  if (!Array.isArray(body.errors) || body.errors.length === 0) throw new Error(`not an OCI error body: ${response.body}`)
  for (const e of body.errors) {
    if (typeof e.code !== 'string' || typeof e.message !== 'string') throw new Error(`malformed OCI error: ${response.body}`)
  }
  return body.errors[0].code
}
