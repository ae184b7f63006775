// Parses and validates manifest bytes: OCI image manifest and index, Docker schema 2
// manifest and manifest list, and artifacts (artifactType, subject).
import { StoreError } from './errors'
import { parseDigest, type Digest } from './references'

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const

const IMAGE_MANIFESTS = new Set<string>([MediaTypes.ociManifest, MediaTypes.dockerManifest])
const INDEXES = new Set<string>([MediaTypes.ociIndex, MediaTypes.dockerManifestList])

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

export interface Descriptor {
  mediaType: string
  digest: Digest
  size: number
  artifactType?: string
  annotations?: Record<string, string>
  platform?: { os?: string; architecture?: string; variant?: string }
  /** non-distributable layers live elsewhere; the registry need not hold them */
  external: boolean
}

export interface ParsedManifest {
  mediaType: string
  kind: 'image' | 'index'
  config?: Descriptor
  layers: Descriptor[]
  children: Descriptor[]
  subject?: Descriptor
  artifactType?: string
  annotations?: Record<string, string>
}

function invalid(message: string): never {
  throw new StoreError('manifest-invalid', message)
}

/** The media type without parameters (`; charset=...`), or undefined when absent. */
export function bareMediaType(header: string | undefined): string | undefined {
  const bare = header?.split(';')[0].trim().toLowerCase()
  return bare ? bare : undefined
}

export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    invalid(`the manifest is not valid JSON: ${(error as Error).message}`)
  }
  if (!isObject(json)) invalid('the manifest must be a JSON object')
  if (json.schemaVersion !== 2) invalid(`schemaVersion must be 2, not ${JSON.stringify(json.schemaVersion)}`)

  const declared = optionalString(json, 'mediaType')
  const header = bareMediaType(contentType)
  if (declared && header && declared !== header && header !== 'application/json') {
    invalid(`the manifest's mediaType ${declared} differs from its Content-Type ${header}`)
  }
  const mediaType = declared ?? header ?? (Array.isArray(json.manifests) ? MediaTypes.ociIndex : MediaTypes.ociManifest)
  const artifactType = optionalString(json, 'artifactType')
  const annotations = optionalAnnotations(json.annotations, 'annotations')
  const subject = json.subject === undefined ? undefined : descriptor(json.subject, 'subject')

  if (IMAGE_MANIFESTS.has(mediaType)) {
    if (json.manifests !== undefined) invalid(`an image manifest (${mediaType}) has no "manifests"`)
    const config = descriptor(json.config, 'config')
    if (json.layers !== undefined && !Array.isArray(json.layers)) invalid('"layers" must be an array')
    const layers = ((json.layers as unknown[] | undefined) ?? []).map((layer, i) => descriptor(layer, `layers[${i}]`))
    return { mediaType, kind: 'image', config, layers, children: [], subject, artifactType, annotations }
  }
  if (INDEXES.has(mediaType)) {
    if (!Array.isArray(json.manifests)) invalid('an index must have a "manifests" array')
    const children = json.manifests.map((child, i) => descriptor(child, `manifests[${i}]`))
    return { mediaType, kind: 'index', layers: [], children, subject, artifactType, annotations }
  }
  invalid(`unsupported manifest media type ${mediaType}`)
}

/** The artifact type the referrers API reports: artifactType, else the config's media type. */
export function referrerArtifactType(manifest: ParsedManifest): string | undefined {
  return manifest.artifactType ?? (manifest.kind === 'image' ? manifest.config?.mediaType : undefined)
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) invalid(`${where} must be a descriptor object`)
  const mediaType = value.mediaType
  if (typeof mediaType !== 'string' || mediaType === '') invalid(`${where}.mediaType must be a string`)
  const digest = typeof value.digest === 'string' ? parseDigest(value.digest) : null
  if (!digest) invalid(`${where}.digest is not a valid digest: ${JSON.stringify(value.digest)}`)
  const size = value.size
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) invalid(`${where}.size must be a non-negative integer`)
  const urls = value.urls
  const external = Array.isArray(urls) && urls.length > 0
  const platform = isObject(value.platform)
    ? {
        os: optionalString(value.platform, 'os'),
        architecture: optionalString(value.platform, 'architecture'),
        variant: optionalString(value.platform, 'variant'),
      }
    : undefined
  return {
    mediaType,
    digest,
    size,
    artifactType: optionalString(value, 'artifactType'),
    annotations: optionalAnnotations(value.annotations, `${where}.annotations`),
    platform,
    external,
  }
}

function optionalAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    invalid(`${where} must map strings to strings`)
  }
  return value as Record<string, string>
}

function optionalString(object: Record<string, unknown>, key: string): string | undefined {
  const value = object[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string') invalid(`"${key}" must be a string`)
  return value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
