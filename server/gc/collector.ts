// Mark and sweep over the metadata, online: pushes, pulls and mounts go on while it runs.
//
// The protocol that makes it safe without a read-only window:
//  - Content is "fresh" from upload, mount or HEAD until a manifest, tag or index references it
//    (see migration 3). Fresh content is kept for a grace window, so a blob uploaded a moment ago
//    for a manifest not pushed yet is never taken. Content that was referenced and lost its last
//    reference is garbage at once, so results are exact and immediate.
//  - plan() marks and lists candidates in one read transaction; that list *is* the dry run.
//  - apply() removes candidates in small write transactions, re-checking each one inside its
//    transaction against the state at that moment: anything pushed, tagged, touched or
//    referenced since the plan is kept. Node runs each transaction and the file removals after
//    it without interleaving any request.
//  - Blob rows are deleted and their files queued in pending_file_deletes in the same
//    transaction; the files go right after, and recovery finishes the queue after a crash.
import { unlinkSync } from 'node:fs'
import { setImmediate as nextTick } from 'node:timers/promises'
import type { RetentionPlan } from './retention'
import { parseDigest } from '../store/references'
import type { Store } from '../store/store'

export interface GcOptions {
  dryRun?: boolean
  /** apply the retention rules first (default: yes) */
  retention?: boolean
  /** treat a manifest that lost its last tag as garbage unless something kept reaches it */
  untagged?: boolean
  /** how long fresh (never referenced) content is kept; default one hour */
  graceMs?: number
  /** upload sessions untouched for longer are removed; default one day */
  uploadMaxAgeMs?: number
  onProgress?: (progress: GcProgress) => void
  /** nothing else uses the store (the CLI with no server running): fewer, bigger transactions */
  exclusive?: boolean
}

export type GcPhase = 'mark' | 'manifests' | 'links' | 'blobs' | 'uploads' | 'repositories' | 'done'

export interface GcProgress {
  phase: GcPhase
  done: number
  total: number
}

export interface GcCounts {
  manifests: number
  /** config and layer blobs (not manifests) */
  blobs: number
  /** disk space freed, manifests included */
  bytes: number
  uploads: number
  repositories: number
}

export interface GcPreview extends GcCounts {
  /** tags the retention rules would remove first, by repository */
  retention: RetentionPlan[]
  /** what would go, the largest first */
  items: { kind: 'manifest' | 'blob' | 'repository' | 'upload'; name: string; size: number }[]
}

export interface GcResult extends GcCounts {
  /** tags the retention rules removed (or, in a dry run, would remove); absent in the history */
  retainedAway?: number
  runId: number
  dryRun: boolean
  untagged: boolean
  startedAt: number
  finishedAt: number
}

interface ManifestRow {
  id: number
  repository_id: number
  digest: string
  subject: string | null
  claimed: number
  touched_at: number
  size: number
}

interface Plan {
  startedAt: number
  freshAfter: number
  uploadCutoff: number
  manifests: ManifestRow[]
  links: { repository_id: number; digest: string }[]
  blobs: { digest: string; size: number }[]
  uploads: string[]
  repositories: number[]
}

export const DEFAULT_GRACE_MS = 60 * 60 * 1000
export const DEFAULT_UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000
const BATCH = 500
/** with the store to itself, GC rewrites each B-tree page once or twice instead of once per batch */
const EXCLUSIVE_BATCH = 20_000

export class GcBusyError extends Error {}

export class GarbageCollector {
  private running = false

  constructor(private readonly store: Store) {}

  async run(options: GcOptions = {}): Promise<GcResult> {
    if (this.running) throw new GcBusyError('garbage collection is already running')
    this.running = true
    try {
      const progress = options.onProgress ?? (() => {})
      progress({ phase: 'mark', done: 0, total: 1 })
      this.store.events.flush()
      if (options.dryRun) {
        const { plan, retention } = this.afterRetention(options, () => this.plan(options))
        progress({ phase: 'done', done: 1, total: 1 })
        return { ...this.record(plan.startedAt, options, planCounts(plan)), retainedAway: tagCount(retention) }
      }
      const retention = options.retention === false ? [] : this.store.retention.apply().plans
      const plan = this.plan(options)
      progress({ phase: 'mark', done: 1, total: 1 })
      const counts = await this.apply(plan, progress, options.exclusive ? EXCLUSIVE_BATCH : BATCH)
      progress({ phase: 'done', done: 1, total: 1 })
      return { ...this.record(plan.startedAt, options, counts), retainedAway: tagCount(retention) }
    } finally {
      this.running = false
    }
  }

  /** What a run would remove now, by name, removing nothing (the GUI's preview). */
  preview(options: GcOptions = {}, limit = 200): GcPreview {
    this.store.events.flush()
    const { plan, retention } = this.afterRetention(options, () => this.plan(options))
    // a preview is a dry run: it shows in the history like one
    this.record(plan.startedAt, { ...options, dryRun: true }, planCounts(plan))
    const names = new Map(this.store.db.prepare<[], { id: number; name: string }>('SELECT id, name FROM repositories').all().map((r) => [r.id, r.name]))
    const largest = <T extends { size: number }>(items: T[]) => [...items].sort((a, b) => b.size - a.size).slice(0, limit)
    return {
      ...planCounts(plan),
      retention,
      items: [
        ...largest(plan.manifests).map((m) => ({ kind: 'manifest' as const, name: `${names.get(m.repository_id)}@${m.digest}`, size: m.size })),
        ...largest(plan.blobs).map((b) => ({ kind: 'blob' as const, name: b.digest, size: b.size })),
        ...plan.repositories.slice(0, limit).map((id) => ({ kind: 'repository' as const, name: names.get(id) ?? String(id), size: 0 })),
        ...plan.uploads.slice(0, limit).map((id) => ({ kind: 'upload' as const, name: id, size: 0 })),
      ],
    }
  }

  /**
   * `compute` on the store as it will be once the retention rules have run, without keeping
   * their deletions: they are applied quietly in a transaction that is rolled back.
   */
  private afterRetention<T>(options: GcOptions, compute: () => T): { plan: T; retention: RetentionPlan[] } {
    if (options.retention === false || this.store.retention.list().length === 0) return { plan: compute(), retention: [] }
    let outcome: { plan: T; retention: RetentionPlan[] } | undefined
    const rollback = new Error('rollback')
    try {
      this.store.db.transaction(() => {
        const { plans } = this.store.retention.apply({ quiet: true })
        outcome = { plan: compute(), retention: plans }
        throw rollback
      })()
    } catch (error) {
      if (error !== rollback) throw error
    }
    return outcome!
  }

  /**
   * What a run would free if `change` were made on top of what it would free anyway: the change
   * runs in a transaction that is always rolled back.
   */
  wouldFreeAfter(change: () => void, options: GcOptions = {}): GcCounts {
    this.store.events.flush()
    const before = planCounts(this.plan(options))
    let after: GcCounts | undefined
    const rollback = new Error('rollback')
    try {
      this.store.db.transaction(() => {
        change()
        after = planCounts(this.plan(options))
        throw rollback
      })()
    } catch (error) {
      if (error !== rollback) throw error
    }
    return {
      manifests: after!.manifests - before.manifests,
      blobs: after!.blobs - before.blobs,
      bytes: after!.bytes - before.bytes,
      uploads: 0,
      repositories: after!.repositories - before.repositories,
    }
  }

  get isRunning(): boolean {
    return this.running
  }

  history(limit = 20): GcResult[] {
    return this.store.db
      .prepare<[number], { id: number; started_at: number; finished_at: number; dry_run: number; untagged: number } & GcCounts>(
        'SELECT * FROM gc_runs WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT ?',
      )
      .all(limit)
      .map((r) => ({
        runId: r.id,
        dryRun: Boolean(r.dry_run),
        untagged: Boolean(r.untagged),
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        manifests: r.manifests,
        blobs: r.blobs,
        bytes: r.bytes,
        uploads: r.uploads,
        repositories: r.repositories,
      }))
  }

  /** Mark: everything GC would remove now. One read transaction, no writes. */
  private plan(options: GcOptions): Plan {
    const db = this.store.db
    const startedAt = Date.now()
    const freshAfter = startedAt - (options.graceMs ?? DEFAULT_GRACE_MS)
    const uploadCutoff = startedAt - (options.uploadMaxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS)
    return db.transaction((): Plan => {
      const manifests = db.prepare<[], ManifestRow>('SELECT id, repository_id, digest, subject, claimed, touched_at, size FROM manifests').all()
      // by repository and digest, for following index children; made only when there are some
      let byKey: Map<string, ManifestRow> | undefined
      const manifestAt = (repository: number, digest: string) => (byKey ??= new Map(manifests.map((m) => [`${m.repository_id}\0${m.digest}`, m]))).get(`${repository}\0${digest}`)
      const referrers = new Map<string, ManifestRow[]>()
      for (const m of manifests) {
        if (m.subject === null) continue
        const key = `${m.repository_id}\0${m.subject}`
        const list = referrers.get(key)
        if (list) list.push(m)
        else referrers.set(key, [m])
      }
      const children = new Map<number, string[]>()
      for (const [manifestId, childDigest] of db.prepare<[], [number, string]>('SELECT manifest_id, child_digest FROM manifest_children').raw().all()) {
        const list = children.get(manifestId)
        if (list) list.push(childDigest)
        else children.set(manifestId, [childDigest])
      }
      const tagged = new Set(db.prepare<[], [number]>('SELECT DISTINCT manifest_id FROM tags').raw().all().map((r) => r[0]))

      const kept = new Set<number>()
      const queue: ManifestRow[] = []
      const keep = (m: ManifestRow | undefined) => {
        if (m && !kept.has(m.id)) {
          kept.add(m.id)
          queue.push(m)
        }
      }
      for (const m of manifests) {
        const fresh = !m.claimed && m.touched_at > freshAfter
        if (tagged.has(m.id) || fresh || (!options.untagged && m.subject === null)) keep(m)
      }
      // what a kept manifest reaches is kept: its index children and its referrers
      while (queue.length) {
        const m = queue.pop()!
        for (const child of children.get(m.id) ?? []) keep(manifestAt(m.repository_id, child))
        for (const referrer of referrers.get(`${m.repository_id}\0${m.digest}`) ?? []) keep(referrer)
      }

      // digest -> the repository (or repositories) whose kept manifests reference it. No join
      // with manifests: their rows are wide (the bytes live inline), and each manifest's
      // repository is known here. Rows come as arrays (.raw()): 100,000 objects cost more.
      const keptRefs = new Map<string, number | number[]>()
      const repositoryOf = new Map(manifests.map((m) => [m.id, m.repository_id]))
      for (const [manifestId, digest] of db.prepare<[], [number, string]>('SELECT manifest_id, digest FROM manifest_blobs').raw().all()) {
        if (!kept.has(manifestId)) continue
        const repository = repositoryOf.get(manifestId)!
        const known = keptRefs.get(digest)
        if (known === undefined) keptRefs.set(digest, repository)
        else if (typeof known === 'number') {
          if (known !== repository) keptRefs.set(digest, [known, repository])
        } else if (!known.includes(repository)) known.push(repository)
      }
      const referencedIn = (digest: string, repository: number) => {
        const known = keptRefs.get(digest)
        return known === repository || (typeof known === 'object' && known.includes(repository))
      }
      const keptBlobs = new Set<string>(keptRefs.keys())
      const garbageLinks: Plan['links'] = []
      const occupied = new Set<number>()
      for (const [repository, digest, claimed, linkedAt] of db.prepare<[], [number, string, number, number]>('SELECT repository_id, digest, claimed, linked_at FROM repository_blobs').raw().all()) {
        if (!referencedIn(digest, repository) && (claimed === 1 || linkedAt <= freshAfter)) garbageLinks.push({ repository_id: repository, digest })
        else {
          keptBlobs.add(digest)
          occupied.add(repository)
        }
      }
      for (const digest of this.store.uploads.inFlight().digests) keptBlobs.add(digest)
      const blobs: Plan['blobs'] = []
      for (const [digest, size] of db.prepare<[], [string, number]>('SELECT digest, size FROM blobs').raw().all()) if (!keptBlobs.has(digest)) blobs.push({ digest, size })

      const busy = this.store.uploads.inFlight().uploadIds
      const uploads = db
        .prepare<[number], { id: string }>('SELECT id FROM uploads WHERE updated_at < ?')
        .all(uploadCutoff)
        .map((u) => u.id)
        .filter((id) => !busy.has(id))
      const staleUploads = new Set(uploads)

      const garbageManifests = manifests.filter((m) => !kept.has(m.id))
      // a repository is left empty when nothing in it is kept
      for (const m of manifests) if (kept.has(m.id)) occupied.add(m.repository_id)
      const activeSessions = new Set(
        db.prepare<[], { id: string; repository: string }>('SELECT id, repository FROM uploads').all().filter((u) => !staleUploads.has(u.id)).map((u) => u.repository),
      )
      const repositories = db
        .prepare<[], { id: number; name: string }>('SELECT id, name FROM repositories')
        .all()
        .filter((r) => !occupied.has(r.id) && !activeSessions.has(r.name))
      return {
        startedAt,
        freshAfter,
        uploadCutoff,
        manifests: garbageManifests,
        links: garbageLinks,
        blobs,
        uploads,
        repositories: repositories.map((r) => r.id),
      }
    })()
  }

  /** Sweep: removes the plan's candidates that are still garbage, in small transactions. */
  private async apply(plan: Plan, progress: (p: GcProgress) => void, batchSize: number): Promise<GcCounts> {
    const db = this.store.db
    const counts: GcCounts = { manifests: 0, blobs: 0, bytes: 0, uploads: 0, repositories: 0 }
    const gone = new Set(plan.manifests.map((m) => m.id))

    const isTagged = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM tags WHERE manifest_id = ?')
    const current = db.prepare<[number], { claimed: number; touched_at: number }>('SELECT claimed, touched_at FROM manifests WHERE id = ?')
    const parents = db.prepare<[number, string], { id: number }>(
      'SELECT m.id FROM manifest_children mc JOIN manifests m ON m.id = mc.manifest_id WHERE m.repository_id = ? AND mc.child_digest = ?',
    )
    const subjectHolder = db.prepare<[number, string], { id: number }>('SELECT id FROM manifests WHERE repository_id = ? AND digest = ?')
    const deleteManifest = db.prepare<[number]>('DELETE FROM manifests WHERE id = ?')
    await this.batches('manifests', batchSize, plan.manifests, progress, (m) => {
      const now = current.get(m.id)
      if (!now) return
      const freshNow = !now.claimed && now.touched_at > plan.freshAfter
      const reachedByKept = (rows: { id: number }[]) => rows.some((r) => !gone.has(r.id))
      const subjectKept = m.subject !== null && reachedByKept(subjectHolder.all(m.repository_id, m.subject))
      if (isTagged.get(m.id)!.n > 0 || freshNow || (!now.claimed && now.touched_at >= plan.startedAt) || reachedByKept(parents.all(m.repository_id, m.digest)) || subjectKept) {
        gone.delete(m.id)
        return
      }
      deleteManifest.run(m.id)
      counts.manifests++
      counts.bytes += m.size
    })

    // one statement per candidate: deleted only if, right now, it is neither fresh nor referenced
    const deleteLink = db.prepare<[{ repository: number; digest: string; freshAfter: number }]>(
      `DELETE FROM repository_blobs WHERE repository_id = @repository AND digest = @digest
       AND (claimed = 1 OR linked_at <= @freshAfter)
       AND NOT EXISTS (SELECT 1 FROM manifest_blobs mb JOIN manifests m ON m.id = mb.manifest_id
                       WHERE mb.digest = @digest AND m.repository_id = @repository)`,
    )
    await this.batches('links', batchSize, plan.links, progress, (l) => {
      deleteLink.run({ repository: l.repository_id, digest: l.digest, freshAfter: plan.freshAfter })
    })

    const deleteBlob = db.prepare<[{ digest: string }]>(
      `DELETE FROM blobs WHERE digest = @digest
       AND NOT EXISTS (SELECT 1 FROM manifest_blobs WHERE digest = @digest)
       AND NOT EXISTS (SELECT 1 FROM repository_blobs WHERE digest = @digest)`,
    )
    const queueFile = db.prepare<[string]>('INSERT OR IGNORE INTO pending_file_deletes (digest) VALUES (?)')
    const unqueueFile = db.prepare<[string]>('DELETE FROM pending_file_deletes WHERE digest = ?')
    const blobRow = db.prepare<[string], { digest: string }>('SELECT digest FROM blobs WHERE digest = ?')
    await this.batches(
      'blobs',
      batchSize,
      plan.blobs,
      progress,
      (b) => {
        if (this.store.uploads.inFlight().digests.has(b.digest)) return
        if (deleteBlob.run({ digest: b.digest }).changes === 0) return // used again since the plan
        queueFile.run(b.digest)
        counts.blobs++
        counts.bytes += b.size
      },
      (removed) => {
        // right after the transaction, before any request runs: nothing can re-add the row in between
        for (const b of removed) {
          if (blobRow.get(b.digest) || this.store.uploads.inFlight().digests.has(b.digest)) continue
          removeFile(this.store.layout.blobPath(parseDigest(b.digest)!))
        }
        db.transaction(() => removed.forEach((b) => unqueueFile.run(b.digest)))()
      },
    )

    const upload = db.prepare<[string], { updated_at: number }>('SELECT updated_at FROM uploads WHERE id = ?')
    const deleteUpload = db.prepare<[string]>('DELETE FROM uploads WHERE id = ?')
    await this.batches('uploads', batchSize, plan.uploads, progress, (id) => {
      const now = upload.get(id)
      if (!now || this.store.uploads.inFlight().uploadIds.has(id) || now.updated_at >= plan.uploadCutoff) return
      deleteUpload.run(id)
      removeFile(this.store.layout.uploadPath(id))
      counts.uploads++
    })

    const isEmpty = db.prepare<[number, number, number], { n: number }>(
      `SELECT (SELECT count(*) FROM manifests WHERE repository_id = ?) + (SELECT count(*) FROM repository_blobs WHERE repository_id = ?)
        + (SELECT count(*) FROM uploads WHERE repository = (SELECT name FROM repositories WHERE id = ?)) AS n`,
    )
    const deleteRepository = db.prepare<[number]>('DELETE FROM repositories WHERE id = ?')
    await this.batches('repositories', batchSize, plan.repositories, progress, (id) => {
      if (isEmpty.get(id, id, id)!.n > 0) return
      if (deleteRepository.run(id).changes > 0) counts.repositories++
    })
    return counts
  }

  /** Runs `each` over items in transactions of `size`, yielding to requests between them. */
  private async batches<T>(
    phase: GcPhase,
    size: number,
    items: T[],
    progress: (p: GcProgress) => void,
    each: (item: T) => void,
    afterCommit?: (items: T[]) => void,
  ): Promise<void> {
    for (let start = 0; start < items.length; start += size) {
      const batch = items.slice(start, start + size)
      this.store.db.transaction(() => batch.forEach(each))()
      afterCommit?.(batch)
      progress({ phase, done: Math.min(start + size, items.length), total: items.length })
      await nextTick()
    }
  }

  private record(startedAt: number, options: GcOptions, counts: GcCounts): GcResult {
    const finishedAt = Date.now()
    const runId = Number(
      this.store.db
        .prepare(
          `INSERT INTO gc_runs (started_at, finished_at, dry_run, untagged, manifests, blobs, bytes, uploads, repositories)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(startedAt, finishedAt, options.dryRun ? 1 : 0, options.untagged ? 1 : 0, counts.manifests, counts.blobs, counts.bytes, counts.uploads, counts.repositories)
        .lastInsertRowid,
    )
    if (!options.dryRun) {
      this.store.events.record({ kind: 'gc', detail: `freed ${mebibytes(counts.bytes)}: removed ${counts.manifests} manifests, ${counts.blobs} blobs` })
    }
    return { runId, dryRun: Boolean(options.dryRun), untagged: Boolean(options.untagged), startedAt, finishedAt, ...counts }
  }
}

function tagCount(plans: RetentionPlan[]): number {
  return plans.reduce((n, p) => n + p.tags.length, 0)
}

function mebibytes(bytes: number): string {
  return bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`
}

function planCounts(plan: Plan): GcCounts {
  const bytes = plan.blobs.reduce((sum, b) => sum + b.size, 0) + plan.manifests.reduce((sum, m) => sum + m.size, 0)
  return {
    manifests: plan.manifests.length,
    blobs: plan.blobs.length,
    bytes,
    uploads: plan.uploads.length,
    repositories: plan.repositories.length,
  }
}

/** Removes a file that may already be gone: one unlink (rmSync would lstat it first). */
function removeFile(path: string): void {
  try {
    unlinkSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
