// The grammars of the distribution spec: repository names, tags and digests.
// Everything that reaches a file path is validated here first.

const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*'
const REPOSITORY_NAME = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`)
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/
const MAX_NAME_LENGTH = 255

export type DigestAlgorithm = 'sha256' | 'sha512'

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 }

export interface Digest {
  algorithm: DigestAlgorithm
  hex: string
  /** `algorithm:hex`, as written on the wire */
  text: string
}

export function isValidRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && REPOSITORY_NAME.test(name)
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag)
}

/** Parses `sha256:<64 hex>` or `sha512:<128 hex>`; anything else is null. */
export function parseDigest(text: string): Digest | null {
  const colon = text.indexOf(':')
  if (colon < 0) return null
  const algorithm = text.slice(0, colon)
  const hex = text.slice(colon + 1)
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return null
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) return null
  return { algorithm, hex, text }
}

/** A reference in a manifest URL: a digest when it has a colon, else a tag. */
export type ManifestReference = { kind: 'digest'; digest: Digest } | { kind: 'tag'; tag: string }

export function parseManifestReference(text: string): ManifestReference | null {
  if (text.includes(':')) {
    const digest = parseDigest(text)
    return digest ? { kind: 'digest', digest } : null
  }
  return isValidTag(text) ? { kind: 'tag', tag: text } : null
}
