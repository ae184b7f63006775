// What every route plugin shares: the store, the listener's policy, and the helpers that turn
// URL parts and store errors into OCI errors.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Readable } from 'node:stream'
import { StoreError, type StoreErrorKind } from '../store/errors'
import { isValidRepositoryName, parseDigest, type Digest } from '../store/references'
import type { Store } from '../store/store'
import { OciError, type OciErrorName } from './errors'

export interface RegistryPolicy {
  /** registry-API deletes (`--delete on|off`); the GUI and CLI delete regardless */
  deleteEnabled: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
    policy: RegistryPolicy
  }
}

export const registryContext = fp(async (app: FastifyInstance, options: { store: Store; policy: RegistryPolicy }) => {
  app.decorate('store', options.store)
  app.decorate('policy', options.policy)
})

/** The one mapping from the store's domain errors to OCI errors. */
const STORE_TO_OCI: Record<StoreErrorKind, OciErrorName> = {
  'blob-unknown': 'BLOB_UNKNOWN',
  'upload-unknown': 'BLOB_UPLOAD_UNKNOWN',
  'upload-busy': 'BLOB_UPLOAD_INVALID',
  'upload-range': 'RANGE_INVALID',
  'upload-size': 'SIZE_INVALID',
  'digest-mismatch': 'DIGEST_INVALID',
  'manifest-unknown': 'MANIFEST_UNKNOWN',
  'manifest-invalid': 'MANIFEST_INVALID',
  'manifest-blob-unknown': 'MANIFEST_BLOB_UNKNOWN',
  'name-unknown': 'NAME_UNKNOWN',
}

export function toOciError(error: unknown): unknown {
  if (!(error instanceof StoreError)) return error
  const oci = new OciError(STORE_TO_OCI[error.kind], error.message)
  if (error.uploadedSize !== undefined) oci.withHeaders({ Range: uploadedRange(error.uploadedSize) })
  return oci
}

/** Runs store work, turning its domain errors into OCI errors. */
export async function storeCall<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw toOciError(error)
  }
}

/** The `Range` header of an upload holding `size` bytes (`0-0` when empty, as clients expect). */
export function uploadedRange(size: number): string {
  return `0-${Math.max(0, size - 1)}`
}

export function repositoryName(request: FastifyRequest): string {
  const name = (request.params as { name: string }).name
  if (!isValidRepositoryName(name)) throw new OciError('NAME_INVALID', `invalid repository name: ${JSON.stringify(name)}`)
  return name
}

export function digestParam(value: string): Digest {
  const digest = parseDigest(value)
  if (!digest) throw new OciError('DIGEST_INVALID', `invalid digest: ${JSON.stringify(value)}`)
  return digest
}

export function requireDeletes(app: FastifyInstance): void {
  if (!app.policy.deleteEnabled) throw new OciError('UNSUPPORTED', 'deletes are disabled on this registry (--delete off)')
}

/** The request body as a stream, or undefined when the request carries none. */
export function bodyStream(request: FastifyRequest): Readable | undefined {
  return request.body as Readable | undefined
}

export function userAgent(request: FastifyRequest): string | undefined {
  return request.headers['user-agent']
}

/** Who pushed: the authenticated identity when there is one, else the client's user agent. */
export function pusher(request: FastifyRequest): string | undefined {
  return request.identity ?? request.headers['user-agent']
}
