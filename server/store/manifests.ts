// Manifests (bytes kept in SQLite), their references to blobs and child manifests, tags,
// the catalog and the referrers of a subject. Every write is one transaction.
import { createHash } from 'node:crypto'
import type Database from 'better-sqlite3'
import { StoreError } from './errors'
import { MediaTypes, parseManifest, referrerArtifactType, type ParsedManifest } from './manifest-content'
import type { Digest, ManifestReference } from './references'
import type { Repositories } from './repositories'

export interface StoredManifest {
  id: number
  digest: string
  mediaType: string
  size: number
  content: Buffer
}

export interface PutManifestResult {
  digest: string
  subject?: string
  created: boolean
}

export interface Page<T> {
  items: T[]
  /** true when more items follow the last one returned */
  more: boolean
}

export interface ReferrerDescriptor {
  mediaType: string
  digest: string
  size: number
  artifactType?: string
  annotations?: Record<string, string>
}

interface ReferrerRow {
  media_type: string
  digest: string
  size: number
  artifact_type: string | null
  annotations: string | null
}

export class ManifestStore {
  private readonly selectByDigest
  private readonly selectByTag
  private readonly selectLinkedBlob
  private readonly selectManifestId
  private readonly insertManifest
  private readonly insertManifestBlob
  private readonly insertChild
  private readonly upsertTag
  private readonly deleteTagRow
  private readonly deleteManifestRow
  private readonly selectTagsAfter
  private readonly selectRepositoriesAfter
  private readonly selectReferrers
  private readonly freshen
  private readonly claimManifest
  private readonly claimChildren
  private readonly claimBlobs
  private readonly touchByDigest

  constructor(
    private readonly db: Database.Database,
    private readonly repositories: Repositories,
  ) {
    const columns = 'm.id, m.digest, m.media_type AS mediaType, m.size, m.content'
    this.selectByDigest = db.prepare<[string, string], StoredManifest>(
      `SELECT ${columns} FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ?`,
    )
    this.selectByTag = db.prepare<[string, string], StoredManifest>(
      `SELECT ${columns} FROM tags t JOIN repositories r ON r.id = t.repository_id JOIN manifests m ON m.id = t.manifest_id
       WHERE r.name = ? AND t.name = ?`,
    )
    this.selectLinkedBlob = db.prepare<[number, string], { size: number }>(
      `SELECT b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest WHERE rb.repository_id = ? AND rb.digest = ?`,
    )
    this.selectManifestId = db.prepare<[number, string], { id: number }>(
      'SELECT id FROM manifests WHERE repository_id = ? AND digest = ?',
    )
    this.insertManifest = db.prepare(
      `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, annotations, size, content, pushed_at, pushed_by, touched_at)
       VALUES (@repositoryId, @digest, @mediaType, @artifactType, @subject, @annotations, @size, @content, @pushedAt, @pushedBy, @pushedAt)`,
    )
    this.freshen = db.prepare<[number, number]>('UPDATE manifests SET claimed = 0, touched_at = ? WHERE id = ?')
    this.claimManifest = db.prepare<[number]>('UPDATE manifests SET claimed = 1 WHERE id = ?')
    this.claimChildren = db.prepare<[{ id: number }]>(
      `UPDATE manifests SET claimed = 1 WHERE repository_id = (SELECT repository_id FROM manifests WHERE id = @id)
       AND digest IN (SELECT child_digest FROM manifest_children WHERE manifest_id = @id)`,
    )
    this.claimBlobs = db.prepare<[{ id: number }]>(
      `UPDATE repository_blobs SET claimed = 1 WHERE repository_id = (SELECT repository_id FROM manifests WHERE id = @id)
       AND digest IN (SELECT digest FROM manifest_blobs WHERE manifest_id = @id)`,
    )
    this.touchByDigest = db.prepare<[number, string, string, number]>(
      `UPDATE manifests SET claimed = 0, touched_at = ? WHERE digest = ?
       AND repository_id = (SELECT id FROM repositories WHERE name = ?) AND (claimed = 1 OR touched_at < ?)
       AND id NOT IN (SELECT manifest_id FROM tags)`,
    )
    this.insertManifestBlob = db.prepare<[number, string, string]>(
      'INSERT OR IGNORE INTO manifest_blobs (manifest_id, digest, role) VALUES (?, ?, ?)',
    )
    this.insertChild = db.prepare<[number, string]>(
      'INSERT OR IGNORE INTO manifest_children (manifest_id, child_digest) VALUES (?, ?)',
    )
    this.upsertTag = db.prepare<[number, string, number, number]>(
      `INSERT INTO tags (repository_id, name, manifest_id, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = excluded.manifest_id, updated_at = excluded.updated_at`,
    )
    this.deleteTagRow = db.prepare<[string, string]>(
      'DELETE FROM tags WHERE name = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)',
    )
    this.deleteManifestRow = db.prepare<[string, string]>(
      'DELETE FROM manifests WHERE digest = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)',
    )
    this.selectTagsAfter = db.prepare<[number, string, number], { name: string }>(
      'SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?',
    )
    this.selectRepositoriesAfter = db.prepare<[string, number], { name: string }>(
      `SELECT name FROM repositories r WHERE name > ?
       AND EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) ORDER BY name LIMIT ?`,
    )
    this.selectReferrers = db.prepare<[string, string], ReferrerRow>(
      `SELECT m.media_type, m.digest, m.size, m.artifact_type, m.annotations
       FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = ? AND m.subject = ? ORDER BY m.digest`,
    )
  }

  get(repository: string, reference: ManifestReference): StoredManifest | undefined {
    return reference.kind === 'digest'
      ? this.selectByDigest.get(repository, reference.digest.text)
      : this.selectByTag.get(repository, reference.tag)
  }

  /**
   * Stores a manifest after checking that its bytes match a digest reference and that every
   * blob and child manifest it names is in this repository.
   */
  put(
    repository: string,
    reference: ManifestReference,
    bytes: Buffer,
    contentType: string | undefined,
    pushedBy?: string,
  ): PutManifestResult {
    const algorithm = reference.kind === 'digest' ? reference.digest.algorithm : 'sha256'
    const digest = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`
    if (reference.kind === 'digest' && reference.digest.text !== digest) {
      throw new StoreError('digest-mismatch', `the manifest's digest is ${digest}, not ${reference.digest.text}`)
    }
    const manifest = parseManifest(bytes, contentType)
    return this.db.transaction((): PutManifestResult => {
      const repositoryId = this.repositories.ensure(repository)
      this.checkReferences(repositoryId, manifest)
      let id = this.selectManifestId.get(repositoryId, digest)?.id
      const created = id === undefined
      if (id === undefined) {
        id = Number(
          this.insertManifest.run({
            repositoryId,
            digest,
            mediaType: manifest.mediaType,
            artifactType: referrerArtifactType(manifest) ?? null,
            subject: manifest.subject?.digest.text ?? null,
            annotations: manifest.annotations ? JSON.stringify(manifest.annotations) : null,
            size: bytes.length,
            content: bytes,
            pushedAt: Date.now(),
            pushedBy: pushedBy ?? null,
          }).lastInsertRowid,
        )
        if (manifest.config) this.insertManifestBlob.run(id, manifest.config.digest.text, 'config')
        for (const layer of manifest.layers) {
          if (!layer.external) this.insertManifestBlob.run(id, layer.digest.text, 'layer')
        }
        for (const child of manifest.children) this.insertChild.run(id, child.digest.text)
      } else {
        // pushed again: a client is about to reference it, keep it fresh for GC
        this.freshen.run(Date.now(), id)
      }
      // what this manifest references is now claimed: GC keeps it exactly as long as the manifest
      this.claimBlobs.run({ id })
      this.claimChildren.run({ id })
      if (reference.kind === 'tag') {
        this.upsertTag.run(repositoryId, reference.tag, id, Date.now())
        this.claimManifest.run(id)
      }
      return { digest, subject: manifest.subject?.digest.text, created }
    })()
  }

  private checkReferences(repositoryId: number, manifest: ParsedManifest): void {
    const blobs = [...(manifest.config ? [manifest.config] : []), ...manifest.layers.filter((layer) => !layer.external)]
    for (const blob of blobs) {
      const stored = this.selectLinkedBlob.get(repositoryId, blob.digest.text)
      if (!stored) throw new StoreError('manifest-blob-unknown', `blob ${blob.digest.text} is not in this repository`)
      if (stored.size !== blob.size) {
        throw new StoreError('manifest-invalid', `blob ${blob.digest.text} has ${stored.size} bytes, the manifest says ${blob.size}`)
      }
    }
    for (const child of manifest.children) {
      if (!this.selectManifestId.get(repositoryId, child.digest.text)) {
        throw new StoreError('manifest-blob-unknown', `manifest ${child.digest.text} is not in this repository`)
      }
    }
  }

  /** A HEAD by digest before a push: keep an untagged manifest fresh. Writes at most once a minute. */
  touch(repository: string, digest: Digest): void {
    const now = Date.now()
    this.touchByDigest.run(now, digest.text, repository, now - 60_000)
  }

  /** Deletes a manifest and every tag pointing at it. */
  deleteManifest(repository: string, digest: Digest): boolean {
    return this.deleteManifestRow.run(digest.text, repository).changes > 0
  }

  deleteTag(repository: string, tag: string): boolean {
    return this.deleteTagRow.run(tag, repository).changes > 0
  }

  repositoryExists(repository: string): boolean {
    return this.repositories.idOf(repository) !== undefined
  }

  /** Tags in byte order after `last`, at most `limit`. */
  listTags(repository: string, last: string, limit: number): Page<string> {
    const repositoryId = this.repositories.idOf(repository)
    if (repositoryId === undefined) throw new StoreError('name-unknown', `repository ${repository} is not known`)
    const rows = this.selectTagsAfter.all(repositoryId, last, limit + 1)
    return { items: rows.slice(0, limit).map((row) => row.name), more: rows.length > limit }
  }

  /** Repositories holding at least one manifest, in byte order after `last`, at most `limit`. */
  listRepositories(last: string, limit: number): Page<string> {
    const rows = this.selectRepositoriesAfter.all(last, limit + 1)
    return { items: rows.slice(0, limit).map((row) => row.name), more: rows.length > limit }
  }

  referrers(repository: string, subject: Digest, artifactType?: string): ReferrerDescriptor[] {
    return this.selectReferrers
      .all(repository, subject.text)
      .filter((row) => artifactType === undefined || row.artifact_type === artifactType)
      .map((row) => ({
        mediaType: row.media_type,
        digest: row.digest,
        size: row.size,
        ...(row.artifact_type ? { artifactType: row.artifact_type } : {}),
        ...(row.annotations ? { annotations: JSON.parse(row.annotations) as Record<string, string> } : {}),
      }))
  }
}

export { MediaTypes }
