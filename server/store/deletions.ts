// Deletes made from the GUI or CLI: a tag, a manifest (and its tags), a whole repository, or a
// selection of tags and manifests in one repository (one record, one undo).
// Each is recorded with a snapshot of what it removed, so it can be undone for as long as the
// content is still stored, that is until a garbage collection removes it.
import type Database from 'better-sqlite3'
import type { Repositories } from './repositories'

export class UndoError extends Error {}
export class DeleteError extends Error {}

interface ManifestSnapshot {
  digest: string
  mediaType: string
  artifactType: string | null
  subject: string | null
  annotations: string | null
  size: number
  content: string // base64
  pushedAt: number
  pushedBy: string | null
  tags: string[]
  blobs: { digest: string; role: string }[]
  children: string[]
}

interface Snapshot {
  /** for a tag delete: the tag and the manifest it named */
  tag?: { name: string; digest: string; updatedAt?: number }
  /** for a selection: tags removed on their own (their manifests stayed); undo restores their time */
  tags?: { name: string; digest: string; updatedAt?: number }[]
  manifests: ManifestSnapshot[]
}

export interface DeletionRecord {
  id: number
  at: number
  kind: 'tag' | 'manifest' | 'repository' | 'selection'
  repository: string
  reference: string | null
  undoneAt: number | null
  /** undoable while everything it removed is still stored; permanent once GC removed some of it */
  state: 'undoable' | 'undone' | 'permanent'
}

export class Deletions {
  constructor(
    private readonly db: Database.Database,
    private readonly repositories: Repositories,
  ) {}

  deleteTag(repository: string, tag: string): DeletionRecord {
    return this.db.transaction(() => {
      const row = this.db
        .prepare<[string, string], { digest: string; updated_at: number }>(
          'SELECT m.digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id JOIN manifests m ON m.id = t.manifest_id WHERE r.name = ? AND t.name = ?',
        )
        .get(repository, tag)
      if (!row) throw new DeleteError(`${repository}:${tag} does not exist`)
      this.db.prepare('DELETE FROM tags WHERE name = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)').run(tag, repository)
      return this.record('tag', repository, tag, { tag: { name: tag, digest: row.digest, updatedAt: row.updated_at }, manifests: [] })
    })()
  }

  deleteManifest(repository: string, digest: string): DeletionRecord {
    return this.db.transaction(() => {
      const snapshot = this.snapshotManifests(repository, digest)
      if (snapshot.length === 0) throw new DeleteError(`${repository}@${digest} does not exist`)
      this.db.prepare('DELETE FROM manifests WHERE digest = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)').run(digest, repository)
      return this.record('manifest', repository, digest, { manifests: snapshot })
    })()
  }

  deleteRepository(repository: string): DeletionRecord {
    return this.db.transaction(() => {
      const snapshot = this.snapshotManifests(repository)
      if (snapshot.length === 0) throw new DeleteError(`repository ${repository} holds no images`)
      this.db.prepare('DELETE FROM manifests WHERE repository_id = (SELECT id FROM repositories WHERE name = ?)').run(repository)
      return this.record('repository', repository, null, { manifests: snapshot })
    })()
  }

  /**
   * Several tags and manifests of one repository as one deletion. A tag whose manifest is also
   * selected goes with the manifest; undo restores all of it or, when GC removed part, nothing.
   */
  deleteSelection(repository: string, tags: string[], digests: string[]): DeletionRecord {
    return this.db.transaction(() => {
      if (tags.length + digests.length === 0) throw new DeleteError('nothing is selected')
      const manifests: ManifestSnapshot[] = []
      for (const digest of new Set(digests)) {
        const snapshot = this.snapshotManifests(repository, digest)
        if (snapshot.length === 0) throw new DeleteError(`${repository}@${digest} does not exist`)
        manifests.push(...snapshot)
      }
      const selected = new Set(digests)
      const tagDigest = this.db.prepare<[string, string], { digest: string; updated_at: number }>(
        'SELECT m.digest, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id JOIN manifests m ON m.id = t.manifest_id WHERE r.name = ? AND t.name = ?',
      )
      const lone: { name: string; digest: string; updatedAt: number }[] = []
      for (const tag of new Set(tags)) {
        const row = tagDigest.get(repository, tag)
        if (!row) throw new DeleteError(`${repository}:${tag} does not exist`)
        if (!selected.has(row.digest)) lone.push({ name: tag, digest: row.digest, updatedAt: row.updated_at })
      }
      const dropTag = this.db.prepare('DELETE FROM tags WHERE name = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)')
      for (const tag of lone) dropTag.run(tag.name, repository)
      const dropManifest = this.db.prepare('DELETE FROM manifests WHERE digest = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)')
      for (const digest of selected) dropManifest.run(digest, repository)
      const taggedAway = lone.length + manifests.reduce((n, m) => n + m.tags.length, 0)
      const parts = [taggedAway ? `${taggedAway} tag${taggedAway === 1 ? '' : 's'}` : '', selected.size ? `${selected.size} manifest${selected.size === 1 ? '' : 's'}` : '']
      return this.record('selection', repository, parts.filter(Boolean).join(' and '), { tags: lone, manifests })
    })()
  }

  list(limit = 50): DeletionRecord[] {
    const rows = this.db
      .prepare<[number], Omit<DeletionRecord, 'state'> & { snapshot: string }>(
        'SELECT id, at, kind, repository, reference, undone_at AS undoneAt, snapshot FROM deletions ORDER BY id DESC LIMIT ?',
      )
      .all(limit)
    return rows.map(({ snapshot, ...row }) => ({
      ...row,
      state: row.undoneAt !== null ? 'undone' : this.stillStored(row.repository, JSON.parse(snapshot) as Snapshot) ? 'undoable' : 'permanent',
    }))
  }

  /** Whether one deletion can still be undone, was undone, or was made permanent by a GC. */
  stateOf(id: number): DeletionRecord['state'] | undefined {
    const row = this.db
      .prepare<[number], { repository: string; undoneAt: number | null; snapshot: string }>('SELECT repository, undone_at AS undoneAt, snapshot FROM deletions WHERE id = ?')
      .get(id)
    if (!row) return undefined
    if (row.undoneAt !== null) return 'undone'
    return this.stillStored(row.repository, JSON.parse(row.snapshot) as Snapshot) ? 'undoable' : 'permanent'
  }

  /** Whether undo would find everything it restores (what undo() checks, read-only). */
  private stillStored(repository: string, snapshot: Snapshot): boolean {
    const manifestIn = this.db.prepare<[string, string], { id: number }>(
      'SELECT m.id FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ?',
    )
    const blobExists = this.db.prepare<[string], { size: number }>('SELECT size FROM blobs WHERE digest = ?')
    if (snapshot.tag && !manifestIn.get(repository, snapshot.tag.digest)) return false
    const restored = new Set(snapshot.manifests.map((m) => m.digest))
    if (!(snapshot.tags ?? []).every((t) => restored.has(t.digest) || manifestIn.get(repository, t.digest))) return false
    return snapshot.manifests.every(
      (m) => m.blobs.every((b) => blobExists.get(b.digest)) && m.children.every((c) => restored.has(c) || manifestIn.get(repository, c)),
    )
  }

  /** Restores a deletion (the latest not yet undone when `id` is absent). */
  undo(id?: number): DeletionRecord {
    return this.db.transaction(() => {
      const row = this.db
        .prepare<[{ id: number | null }], DeletionRecord & { snapshot: string }>(
          `SELECT id, at, kind, repository, reference, undone_at AS undoneAt, snapshot FROM deletions
           WHERE (@id IS NULL AND undone_at IS NULL) OR id = @id ORDER BY id DESC LIMIT 1`,
        )
        .get({ id: id ?? null })
      if (!row) throw new UndoError(id === undefined ? 'there is nothing to undo' : `no deletion ${id}`)
      if (row.undoneAt !== null) throw new UndoError(`deletion ${row.id} was already undone`)
      const snapshot = JSON.parse(row.snapshot) as Snapshot
      // >=: a GC finishing in the same millisecond as the delete still removed it
      const lastGc = this.db.prepare<[], { finished_at: number | null }>('SELECT max(finished_at) AS finished_at FROM gc_runs WHERE dry_run = 0').get()?.finished_at
      const tooLate = (what: string) =>
        new UndoError(`too late to undo: ${what}${lastGc && lastGc >= row.at ? ` (garbage collection on ${new Date(lastGc).toISOString()} removed it)` : ''}`)

      const repositoryId = this.repositories.ensure(row.repository)
      // children before the indexes that name them
      const ordered = [...snapshot.manifests].sort((a, b) => a.children.length - b.children.length)
      for (const m of ordered) this.restoreManifest(repositoryId, m, tooLate)
      // tags removed on their own (a tag delete, or part of a selection) name manifests that stayed
      for (const tag of [...(snapshot.tag ? [snapshot.tag] : []), ...(snapshot.tags ?? [])]) {
        const manifestId = this.manifestId(repositoryId, tag.digest)
        if (manifestId === undefined) throw tooLate(`the manifest ${tag.digest} of tag ${tag.name} is no longer stored`)
        this.restoreTag(repositoryId, tag.name, manifestId, tag.updatedAt)
      }
      this.db.prepare('UPDATE deletions SET undone_at = ? WHERE id = ?').run(Date.now(), row.id)
      return { id: row.id, at: row.at, kind: row.kind, repository: row.repository, reference: row.reference, undoneAt: Date.now(), state: 'undone' as const }
    })()
  }

  private restoreManifest(repositoryId: number, m: ManifestSnapshot, tooLate: (what: string) => UndoError): void {
    const blobExists = this.db.prepare<[string], { size: number }>('SELECT size FROM blobs WHERE digest = ?')
    for (const blob of m.blobs) if (!blobExists.get(blob.digest)) throw tooLate(`blob ${blob.digest} of ${m.digest} is no longer stored`)
    for (const child of m.children) if (this.manifestId(repositoryId, child) === undefined) throw tooLate(`manifest ${child} of ${m.digest} is no longer stored`)
    let id = this.manifestId(repositoryId, m.digest)
    if (id === undefined) {
      id = Number(
        this.db
          .prepare(
            `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, annotations, size, content, pushed_at, pushed_by, touched_at, claimed)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
          )
          .run(repositoryId, m.digest, m.mediaType, m.artifactType, m.subject, m.annotations, m.size, Buffer.from(m.content, 'base64'), m.pushedAt, m.pushedBy, Date.now())
          .lastInsertRowid,
      )
      const addBlob = this.db.prepare('INSERT OR IGNORE INTO manifest_blobs (manifest_id, digest, role) VALUES (?, ?, ?)')
      for (const blob of m.blobs) addBlob.run(id, blob.digest, blob.role)
      const addChild = this.db.prepare('INSERT OR IGNORE INTO manifest_children (manifest_id, child_digest) VALUES (?, ?)')
      for (const child of m.children) addChild.run(id, child)
    }
    const link = this.db.prepare(
      `INSERT INTO repository_blobs (repository_id, digest, linked_at, claimed) VALUES (?, ?, ?, 1)
       ON CONFLICT (repository_id, digest) DO UPDATE SET claimed = 1`,
    )
    for (const blob of m.blobs) link.run(repositoryId, blob.digest, Date.now())
    for (const tag of m.tags) this.restoreTag(repositoryId, tag, id)
  }

  private manifestId(repositoryId: number, digest: string): number | undefined {
    return this.db.prepare<[number, string], { id: number }>('SELECT id FROM manifests WHERE repository_id = ? AND digest = ?').get(repositoryId, digest)?.id
  }

  /** A tag pushed again since the delete now names something newer: it is left alone. */
  private restoreTag(repositoryId: number, tag: string, manifestId: number, updatedAt = Date.now()): void {
    this.db.prepare('INSERT OR IGNORE INTO tags (repository_id, name, manifest_id, updated_at) VALUES (?, ?, ?, ?)').run(repositoryId, tag, manifestId, updatedAt)
    this.db.prepare('UPDATE manifests SET claimed = 1 WHERE id = ?').run(manifestId)
  }

  private snapshotManifests(repository: string, digest?: string): ManifestSnapshot[] {
    const rows = this.db
      .prepare<[string, string | null, string | null], { id: number; digest: string; media_type: string; artifact_type: string | null; subject: string | null; annotations: string | null; size: number; content: Buffer; pushed_at: number; pushed_by: string | null }>(
        `SELECT m.* FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? AND (? IS NULL OR m.digest = ?)`,
      )
      .all(repository, digest ?? null, digest ?? null)
    const tags = this.db.prepare<[number], { name: string }>('SELECT name FROM tags WHERE manifest_id = ?')
    const blobs = this.db.prepare<[number], { digest: string; role: string }>('SELECT digest, role FROM manifest_blobs WHERE manifest_id = ?')
    const children = this.db.prepare<[number], { child_digest: string }>('SELECT child_digest FROM manifest_children WHERE manifest_id = ?')
    return rows.map((m) => ({
      digest: m.digest,
      mediaType: m.media_type,
      artifactType: m.artifact_type,
      subject: m.subject,
      annotations: m.annotations,
      size: m.size,
      content: m.content.toString('base64'),
      pushedAt: m.pushed_at,
      pushedBy: m.pushed_by,
      tags: tags.all(m.id).map((t) => t.name),
      blobs: blobs.all(m.id),
      children: children.all(m.id).map((c) => c.child_digest),
    }))
  }

  private record(kind: DeletionRecord['kind'], repository: string, reference: string | null, snapshot: Snapshot): DeletionRecord {
    const at = Date.now()
    const id = Number(
      this.db
        .prepare('INSERT INTO deletions (at, kind, repository, reference, snapshot) VALUES (?, ?, ?, ?, ?)')
        .run(at, kind, repository, reference, JSON.stringify(snapshot)).lastInsertRowid,
    )
    return { id, at, kind, repository, reference, undoneAt: null, state: 'undoable' }
  }
}
