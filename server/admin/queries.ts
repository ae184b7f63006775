// Read models for the GUI: what the store holds, shaped for the screens. Everything here reads;
// nothing writes. Image configs are read from their blob files (small, immutable) and cached.
import { readFileSync } from 'node:fs'
import type Database from 'better-sqlite3'
import { parseManifest, type ParsedManifest } from '../store/manifest-content'
import { parseDigest } from '../store/references'
import type { Store } from '../store/store'
import type {
  ChildView,
  HistoryView,
  ImageConfigView,
  LayerView,
  ManifestSummary,
  ManifestView,
  ReferrerView,
  RepositorySummary,
  RepositoryView,
} from './contract'

/** Configs larger than this are not parsed for display (real ones are a few KiB). */
const MAX_CONFIG_BYTES = 1 << 20
const CONFIG_CACHE_SIZE = 2000

// the stored artifact type of a plain image is its config's media type
const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json'])
const SIGNATURE_TYPES = [/cosign.*sig/i, /notary.*signature/i, /signature/i]
const SBOM_TYPES = [/spdx/i, /cyclonedx/i, /sbom/i, /syft/i]
const ATTESTATION_TYPES = [/in-toto/i, /attestation/i, /provenance/i, /slsa/i, /vex/i]

interface ManifestRow {
  id: number
  repository_id: number
  digest: string
  media_type: string
  artifact_type: string | null
  subject: string | null
  annotations: string | null
  size: number
  content: Buffer
  pushed_at: number
  pushed_by: string | null
}

/** One repository's manifests by digest, and which of them are signed: built once per view. */
interface RepositoryContext {
  byDigest: Map<string, ManifestRow>
  signed: Set<string>
}

interface RawConfig {
  os?: string
  architecture?: string
  variant?: string
  created?: string
  author?: string
  config?: {
    Entrypoint?: string[] | null
    Cmd?: string[] | null
    Env?: string[] | null
    Labels?: Record<string, string> | null
    WorkingDir?: string
    User?: string
    ExposedPorts?: Record<string, unknown> | null
  }
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[]
}

export function referrerKind(artifactType: string | null): ReferrerView['kind'] {
  if (!artifactType) return 'other'
  if (SIGNATURE_TYPES.some((p) => p.test(artifactType))) return 'signature'
  if (SBOM_TYPES.some((p) => p.test(artifactType))) return 'sbom'
  if (ATTESTATION_TYPES.some((p) => p.test(artifactType))) return 'attestation'
  return 'other'
}

export function formatPlatform(p: { os?: string | null; architecture?: string | null; variant?: string | null } | undefined): string | null {
  if (!p?.os && !p?.architecture) return null
  return [p.os ?? '?', p.architecture ?? '?', ...(p.variant ? [p.variant] : [])].join('/')
}

export class StoreQueries {
  private readonly db: Database.Database
  private readonly configs = new Map<string, RawConfig | null>()
  /** parsed manifest bytes, per row object (a view parses each row once) */
  private readonly parsed = new WeakMap<ManifestRow, ParsedManifest | null>()

  constructor(private readonly store: Store) {
    this.db = store.db
  }

  counts() {
    const one = (sql: string) => (this.db.prepare<[], { n: number }>(sql).get()?.n ?? 0)
    return {
      repositories: one('SELECT count(*) AS n FROM repositories r WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)'),
      tags: one('SELECT count(*) AS n FROM tags'),
      manifests: one('SELECT count(*) AS n FROM manifests'),
      blobs: one('SELECT count(*) AS n FROM blobs'),
    }
  }

  storage() {
    const row = this.db
      .prepare<[], { blobs: number | null; manifests: number | null; logical: number | null }>(
        `SELECT (SELECT sum(size) FROM blobs) AS blobs, (SELECT sum(size) FROM manifests) AS manifests,
                (SELECT sum(b.size) FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest) AS logical`,
      )
      .get()!
    const stored = (row.blobs ?? 0) + (row.manifests ?? 0)
    const logical = (row.logical ?? 0) + (row.manifests ?? 0)
    return { stored, logical, savedByDedupe: Math.max(0, logical - stored) }
  }

  repositories(): RepositorySummary[] {
    const rows = this.db
      .prepare<[], RepositorySummary>(
        `WITH holders AS (SELECT digest, count(*) AS n FROM repository_blobs GROUP BY digest)
         SELECT r.name,
           (SELECT count(*) FROM tags t WHERE t.repository_id = r.id) AS tags,
           (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id) AS manifests,
           (SELECT max(m.pushed_at) FROM manifests m WHERE m.repository_id = r.id) AS lastPush,
           coalesce((SELECT sum(b.size) FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest JOIN holders h ON h.digest = rb.digest
                     WHERE rb.repository_id = r.id AND h.n = 1), 0)
             + coalesce((SELECT sum(m.size) FROM manifests m WHERE m.repository_id = r.id), 0) AS uniqueBytes,
           coalesce((SELECT sum(b.size) FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest JOIN holders h ON h.digest = rb.digest
                     WHERE rb.repository_id = r.id AND h.n > 1), 0) AS sharedBytes
         FROM repositories r
         WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)
         ORDER BY r.name`,
      )
      .all()
    return rows
  }

  repository(name: string, pullAddress: string | null): RepositoryView | undefined {
    const repositoryId = this.repositoryId(name)
    if (repositoryId === undefined) return undefined
    const manifests = this.db
      .prepare<[number], ManifestRow>('SELECT * FROM manifests WHERE repository_id = ? ORDER BY pushed_at DESC, digest')
      .all(repositoryId)
    const context = this.context(repositoryId, manifests)
    const tags = this.db
      .prepare<[number], { name: string; manifest_id: number; updated_at: number }>('SELECT name, manifest_id, updated_at FROM tags WHERE repository_id = ? ORDER BY updated_at DESC, name')
      .all(repositoryId)
    const tagsOf = new Map<number, string[]>()
    for (const t of tags) tagsOf.set(t.manifest_id, [...(tagsOf.get(t.manifest_id) ?? []), t.name])
    const reachedByOthers = new Set<string>()
    for (const m of manifests) {
      if (m.subject) reachedByOthers.add(m.digest)
      for (const child of this.parse(m)?.children ?? []) reachedByOthers.add(child.digest.text)
    }
    const summaries = new Map(manifests.map((m) => [m.id, this.summarize(m, context, tagsOf.get(m.id) ?? [])]))
    return {
      name,
      pullAddress,
      tags: tags.map((t) => ({ ...summaries.get(t.manifest_id)!, tag: t.name, updatedAt: t.updated_at })),
      untagged: manifests.filter((m) => !tagsOf.has(m.id) && !reachedByOthers.has(m.digest)).map((m) => summaries.get(m.id)!),
    }
  }

  manifest(repository: string, digest: string): ManifestView | undefined {
    const repositoryId = this.repositoryId(repository)
    if (repositoryId === undefined) return undefined
    const siblings = this.db.prepare<[number], ManifestRow>('SELECT * FROM manifests WHERE repository_id = ?').all(repositoryId)
    const context = this.context(repositoryId, siblings)
    const row = context.byDigest.get(digest)
    if (!row) return undefined
    const tags = this.db
      .prepare<[number], { name: string }>('SELECT name FROM tags WHERE manifest_id = ? ORDER BY name')
      .all(row.id)
      .map((t) => t.name)
    const parsed = this.parse(row)
    const config = parsed?.config ? this.config(parsed.config.digest.text) : null
    const users = this.db.prepare<[string, number], { n: number }>('SELECT count(DISTINCT manifest_id) AS n FROM manifest_blobs WHERE digest = ? AND manifest_id != ?')
    const layers: LayerView[] = (parsed?.layers ?? []).map((l) => ({
      digest: l.digest.text,
      size: l.size,
      mediaType: l.mediaType,
      sharedWith: users.get(l.digest.text, row.id)?.n ?? 0,
    }))
    const children: ChildView[] = (parsed?.children ?? []).map((c) => ({
      digest: c.digest.text,
      mediaType: c.mediaType,
      size: c.size,
      platform: formatPlatform(c.platform),
      stored: context.byDigest.has(c.digest.text),
    }))
    const referrers: ReferrerView[] = siblings
      .filter((m) => m.subject === row.digest)
      .map((m) => ({
        digest: m.digest,
        artifactType: m.artifact_type,
        kind: referrerKind(m.artifact_type),
        size: m.size,
        created: (JSON.parse(m.annotations ?? '{}') as Record<string, string>)['org.opencontainers.image.created'] ?? null,
      }))
    const history: HistoryView[] = (Array.isArray(config?.history) ? config.history : []).filter(isRecord).map((h) => ({
      created: text(h.created),
      createdBy: text(h.created_by),
      comment: text(h.comment),
      emptyLayer: h.empty_layer === true,
    }))
    return {
      ...this.summarize(row, context, tags),
      repository,
      subject: row.subject,
      annotations: row.annotations ? (JSON.parse(row.annotations) as Record<string, string>) : {},
      config: parsed?.config && config ? configView(parsed.config.digest.text, parsed.config.size, config) : null,
      layers,
      history,
      children,
      referrers,
      raw: row.content.toString('utf8'),
    }
  }

  private repositoryId(name: string): number | undefined {
    return this.db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?').get(name)?.id
  }

  private context(repositoryId: number, manifests: ManifestRow[]): RepositoryContext {
    // signed: a signature referrer (OCI 1.1), or a cosign `sha256-<hex>.sig` tag
    const signed = new Set<string>()
    for (const m of manifests) if (m.subject && referrerKind(m.artifact_type) === 'signature') signed.add(m.subject)
    const cosignTags = this.db.prepare<[number], { name: string }>("SELECT name FROM tags WHERE repository_id = ? AND name LIKE '%.sig'").all(repositoryId)
    for (const { name } of cosignTags) signed.add(name.slice(0, -'.sig'.length).replace('-', ':'))
    return { byDigest: new Map(manifests.map((m) => [m.digest, m])), signed }
  }

  private summarize(row: ManifestRow, context: RepositoryContext, tags: string[]): ManifestSummary {
    const parsed = this.parse(row)
    const isImage = !row.artifact_type || IMAGE_CONFIG_TYPES.has(row.artifact_type)
    const kind: ManifestSummary['kind'] = parsed?.kind === 'index' ? 'index' : isImage ? 'image' : 'artifact'
    // every blob once: an index counts its children's layers shared between platforms once
    const blobs = new Map<string, number>()
    const platforms: string[] = []
    const visit = (m: ParsedManifest | undefined) => {
      if (!m) return
      if (m.config) blobs.set(m.config.digest.text, m.config.size)
      for (const l of m.layers) blobs.set(l.digest.text, l.size)
    }
    visit(parsed)
    let size = row.size
    if (parsed?.kind === 'index') {
      for (const child of parsed.children) {
        const stored = context.byDigest.get(child.digest.text)
        if (stored) size += stored.size
        visit(stored ? this.parse(stored) : undefined)
        const platform = formatPlatform(child.platform)
        if (platform && platform !== 'unknown/unknown') platforms.push(platform)
      }
    } else if (parsed?.config && kind === 'image') {
      const platform = formatPlatform(this.config(parsed.config.digest.text) ?? undefined)
      if (platform) platforms.push(platform)
    }
    for (const bytes of blobs.values()) size += bytes
    return {
      digest: row.digest,
      mediaType: row.media_type,
      artifactType: isImage ? null : row.artifact_type,
      kind,
      size,
      platforms,
      pushedAt: row.pushed_at,
      pushedBy: row.pushed_by,
      signed: context.signed.has(row.digest),
      tags,
    }
  }

  private parse(row: ManifestRow): ParsedManifest | undefined {
    let parsed = this.parsed.get(row)
    if (parsed === undefined) {
      try {
        parsed = parseManifest(row.content, row.media_type)
      } catch {
        parsed = null
      }
      this.parsed.set(row, parsed)
    }
    return parsed ?? undefined
  }

  /** An image config from its blob file, or null when absent, too large or not JSON. */
  private config(digest: string): RawConfig | null {
    if (this.configs.has(digest)) return this.configs.get(digest)!
    let config: RawConfig | null = null
    const parsed = parseDigest(digest)
    const size = parsed ? this.store.blobs.stat(parsed)?.size : undefined
    if (parsed && size !== undefined && size <= MAX_CONFIG_BYTES) {
      try {
        const json = JSON.parse(readFileSync(this.store.layout.blobPath(parsed), 'utf8')) as unknown
        if (json && typeof json === 'object' && !Array.isArray(json)) config = json as RawConfig
      } catch {
        config = null
      }
    }
    if (this.configs.size >= CONFIG_CACHE_SIZE) this.configs.delete(this.configs.keys().next().value!)
    this.configs.set(digest, config)
    return config
  }
}

/**
 * The config as the GUI shows it. Configs are whatever a client pushed: each field is taken only
 * in the shape the spec gives it (strings, lists of strings), so a hostile config (say, nested a
 * hundred thousand levels deep) shows what it can instead of failing the page.
 */
function configView(digest: string, size: number, raw: RawConfig): ImageConfigView {
  const c: Record<string, unknown> = isRecord(raw.config) ? raw.config : {}
  return {
    digest,
    size,
    os: text(raw.os),
    architecture: text(raw.architecture),
    variant: text(raw.variant),
    created: text(raw.created),
    author: text(raw.author),
    entrypoint: texts(c.Entrypoint),
    cmd: texts(c.Cmd),
    workingDir: text(c.WorkingDir) || null,
    user: text(c.User) || null,
    env: texts(c.Env) ?? [],
    labels: isRecord(c.Labels) ? Object.fromEntries(Object.entries(c.Labels).filter((e): e is [string, string] => typeof e[1] === 'string')) : {},
    exposedPorts: isRecord(c.ExposedPorts) ? Object.keys(c.ExposedPorts) : [],
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

function texts(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : null
}
