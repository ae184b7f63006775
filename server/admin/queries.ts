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
  PullOption,
  ReferrerView,
  RepositorySummary,
  RepositoryView,
  TagSort,
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

/** One repository's manifests, read by digest as a view needs them, and which are signed. */
interface RepositoryContext {
  rows: Map<string, ManifestRow | null>
  lookup: (digest: string) => ManifestRow | undefined
  signed: Set<string>
}

export interface TagPage {
  filter?: string
  sort?: TagSort
  offset?: number
  limit?: number
}

const DEFAULT_TAG_PAGE = 50
const MAX_TAG_PAGE = 500
/** untagged manifests listed on a repository's page (the count covers them all) */
const UNTAGGED_SHOWN = 100

/** Sorts tags in place: newest first, by name (byte order), or by version, highest first. */
export function sortTags<T extends { name: string; updated_at: number }>(tags: T[], sort: TagSort): T[] {
  if (sort === 'name') return tags.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  if (sort === 'newest') return tags.sort((a, b) => b.updated_at - a.updated_at || (a.name < b.name ? -1 : 1))
  const versions = new Map(tags.map((t) => [t.name, parseVersion(t.name)]))
  return tags.sort((a, b) => {
    const va = versions.get(a.name)
    const vb = versions.get(b.name)
    if (va && vb) return compareVersions(vb, va) || (a.name < b.name ? -1 : 1)
    if (va) return -1
    if (vb) return 1
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  })
}

interface Version {
  numbers: [number, number, number]
  prerelease: string[]
}

// 1, 1.2, 1.2.3, v1.2.3-rc.1+build: the versions tags carry (partial ones sort as .0)
const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/

function parseVersion(tag: string): Version | null {
  const m = VERSION.exec(tag)
  if (!m) return null
  return { numbers: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], prerelease: m[4] ? m[4].split('.') : [] }
}

/** Semantic Versioning 2.0 precedence: a pre-release sorts below its release. */
function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a.numbers[i] !== b.numbers[i]) return a.numbers[i] - b.numbers[i]
  if (!a.prerelease.length || !b.prerelease.length) return b.prerelease.length - a.prerelease.length
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i]
    const y = b.prerelease[i]
    if (x === undefined) return -1
    if (y === undefined) return 1
    const nx = /^\d+$/.test(x) ? Number(x) : null
    const ny = /^\d+$/.test(y) ? Number(y) : null
    if (nx !== null && ny !== null) {
      if (nx !== ny) return nx - ny
    } else if (nx !== null) return -1
    else if (ny !== null) return 1
    else if (x !== y) return x < y ? -1 : 1
  }
  return 0
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

  /**
   * One repository, one page of its tags at a time. Only the page's manifests are read and
   * summarized, and each row carries counts rather than lists, so the answer grows with the
   * page, not with the repository (10,000 tags answer as fast as 100).
   */
  repository(name: string, pull: PullOption[], page: TagPage = {}): RepositoryView | undefined {
    const repositoryId = this.repositoryId(name)
    if (repositoryId === undefined) return undefined
    const limit = Math.max(1, Math.min(MAX_TAG_PAGE, Math.trunc(page.limit ?? DEFAULT_TAG_PAGE)))
    const filter = page.filter?.trim().toLowerCase() ?? ''
    const all = this.db
      .prepare<[number], { name: string; manifest_id: number; updated_at: number }>('SELECT name, manifest_id, updated_at FROM tags WHERE repository_id = ?')
      .all(repositoryId)
    const matching = filter ? all.filter((t) => t.name.toLowerCase().includes(filter)) : all
    sortTags(matching, page.sort ?? 'newest')
    const offset = Math.max(0, Math.min(Math.trunc(page.offset ?? 0), Math.max(0, matching.length - 1)))
    const shown = matching.slice(offset, offset + limit)

    const context = this.context(repositoryId)
    const tagCounts = new Map(
      this.db
        .prepare<[number], { manifest_id: number; n: number }>('SELECT manifest_id, count(*) AS n FROM tags WHERE repository_id = ? GROUP BY manifest_id')
        .all(repositoryId)
        .map((r) => [r.manifest_id, r.n]),
    )
    const byId = this.db.prepare<[number], ManifestRow>('SELECT * FROM manifests WHERE id = ?')
    const summaries = new Map<number, ManifestSummary>()
    const summaryOf = (id: number) => {
      let summary = summaries.get(id)
      if (!summary) {
        const row = byId.get(id)!
        context.rows.set(row.digest, row)
        summary = this.summarize(row, context, tagCounts.get(id) ?? 0)
        summaries.set(id, summary)
      }
      return summary
    }
    // untagged: no tag, not a referrer, and not a child of an index in this repository
    const untaggedWhere = `FROM manifests m WHERE m.repository_id = ? AND m.subject IS NULL
      AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
      AND NOT EXISTS (SELECT 1 FROM manifest_children c JOIN manifests p ON p.id = c.manifest_id
                      WHERE c.child_digest = m.digest AND p.repository_id = m.repository_id)`
    const untaggedCount = this.db.prepare<[number], { n: number }>(`SELECT count(*) AS n ${untaggedWhere}`).get(repositoryId)?.n ?? 0
    const untagged = this.db
      .prepare<[number, number], { id: number }>(`SELECT m.id ${untaggedWhere} ORDER BY m.pushed_at DESC, m.digest LIMIT ?`)
      .all(repositoryId, UNTAGGED_SHOWN)
    return {
      name,
      pull,
      tagCount: all.length,
      matching: matching.length,
      offset,
      limit,
      tags: shown.map((t) => ({ ...summaryOf(t.manifest_id), tag: t.name, updatedAt: t.updated_at })),
      untaggedCount,
      untagged: untagged.map((m) => summaryOf(m.id)),
    }
  }

  manifest(repository: string, digest: string, pull: PullOption[] = []): ManifestView | undefined {
    const repositoryId = this.repositoryId(repository)
    if (repositoryId === undefined) return undefined
    const context = this.context(repositoryId)
    const row = context.lookup(digest)
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
      stored: context.lookup(c.digest.text) !== undefined,
      imageSize: this.imageSize(c.digest.text, context),
    }))
    const referrers: ReferrerView[] = this.db
      .prepare<[number, string], ManifestRow>('SELECT * FROM manifests WHERE repository_id = ? AND subject = ?')
      .all(repositoryId, row.digest)
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
      ...this.summarize(row, context, tags.length),
      tags,
      pull,
      parents: this.parents(repositoryId, row.digest),
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

  private context(repositoryId: number): RepositoryContext {
    // signed: a signature referrer (OCI 1.1), or a cosign `sha256-<hex>.sig` tag
    const signed = new Set<string>()
    const referrers = this.db
      .prepare<[number], { subject: string; artifact_type: string | null }>('SELECT subject, artifact_type FROM manifests WHERE repository_id = ? AND subject IS NOT NULL')
      .all(repositoryId)
    for (const m of referrers) if (referrerKind(m.artifact_type) === 'signature') signed.add(m.subject)
    const cosignTags = this.db.prepare<[number], { name: string }>("SELECT name FROM tags WHERE repository_id = ? AND name LIKE '%.sig'").all(repositoryId)
    for (const { name } of cosignTags) signed.add(name.slice(0, -'.sig'.length).replace('-', ':'))
    const rows = new Map<string, ManifestRow | null>()
    const byDigest = this.db.prepare<[number, string], ManifestRow>('SELECT * FROM manifests WHERE repository_id = ? AND digest = ?')
    const lookup = (digest: string) => {
      let row = rows.get(digest)
      if (row === undefined) {
        row = byDigest.get(repositoryId, digest) ?? null
        rows.set(digest, row)
      }
      return row ?? undefined
    }
    return { rows, lookup, signed }
  }

  /** The indexes in this repository that list `digest` as a platform, with their tags. */
  private parents(repositoryId: number, digest: string): ManifestView['parents'] {
    return this.db
      .prepare<[string, number], { digest: string; tags: string | null }>(
        `SELECT p.digest, (SELECT group_concat(t.name, ' ') FROM tags t WHERE t.manifest_id = p.id) AS tags
         FROM manifest_children c JOIN manifests p ON p.id = c.manifest_id WHERE c.child_digest = ? AND p.repository_id = ? ORDER BY p.pushed_at DESC`,
      )
      .all(digest, repositoryId)
      .map((p) => ({ digest: p.digest, tags: p.tags ? p.tags.split(' ').sort() : [] }))
  }

  /** What pulling one platform of an index downloads: its manifest, config and layers. */
  private imageSize(digest: string, context: RepositoryContext): number | null {
    const row = context.lookup(digest)
    if (!row) return null
    const parsed = this.parse(row)
    let size = row.size
    if (parsed?.config) size += parsed.config.size
    for (const l of parsed?.layers ?? []) size += l.size
    return size
  }

  private summarize(row: ManifestRow, context: RepositoryContext, tagCount: number): ManifestSummary {
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
        const stored = context.lookup(child.digest.text)
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
      tagCount,
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
