// Content-addressed blobs: one file per digest under blobs/, one row per blob, and a link
// per repository that may read it.
import { createReadStream, type ReadStream } from 'node:fs'
import { mkdir, rename } from 'node:fs/promises'
import type Database from 'better-sqlite3'
import { fileSize, fsyncPath } from './files'
import type { StoreLayout } from './layout'
import type { Digest } from './references'
import type { Repositories } from './repositories'

export interface BlobInfo {
  digest: string
  size: number
}

export class BlobStore {
  private readonly selectLinked
  private readonly selectBlob
  private readonly insertBlob
  private readonly insertLink
  private readonly deleteLink
  private readonly touchLink

  constructor(
    private readonly db: Database.Database,
    private readonly layout: StoreLayout,
    private readonly repositories: Repositories,
  ) {
    this.selectLinked = db.prepare<[string, string], BlobInfo>(
      `SELECT b.digest, b.size FROM blobs b
       JOIN repository_blobs rb ON rb.digest = b.digest
       JOIN repositories r ON r.id = rb.repository_id
       WHERE r.name = ? AND b.digest = ?`,
    )
    this.selectBlob = db.prepare<[string], BlobInfo>('SELECT digest, size FROM blobs WHERE digest = ?')
    this.insertBlob = db.prepare<[string, number, number]>(
      'INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)',
    )
    // (re)linking makes the link fresh again: a client is about to reference it
    this.insertLink = db.prepare<[number, string, number]>(
      `INSERT INTO repository_blobs (repository_id, digest, linked_at, claimed) VALUES (?, ?, ?, 0)
       ON CONFLICT (repository_id, digest) DO UPDATE SET linked_at = excluded.linked_at, claimed = 0`,
    )
    this.touchLink = db.prepare<[number, string, string, number]>(
      `UPDATE repository_blobs SET linked_at = ?, claimed = 0
       WHERE digest = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?) AND (claimed = 1 OR linked_at < ?)`,
    )
    this.deleteLink = db.prepare<[string, string]>(
      `DELETE FROM repository_blobs WHERE digest = ?
       AND repository_id = (SELECT id FROM repositories WHERE name = ?)`,
    )
  }

  /** The blob as `repository` sees it: only blobs linked to that repository exist for it. */
  statInRepository(repository: string, digest: Digest): BlobInfo | undefined {
    return this.selectLinked.get(repository, digest.text)
  }

  /** The blob whatever repository holds it. */
  stat(digest: Digest): BlobInfo | undefined {
    return this.selectBlob.get(digest.text)
  }

  openRead(digest: Digest, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.layout.blobPath(digest), { ...range, highWaterMark: 1 << 20 })
  }

  /** Lets `repository` read a blob that is already stored (cross-repository mount). */
  link(repository: string, digest: Digest): boolean {
    return this.db.transaction(() => {
      if (!this.selectBlob.get(digest.text)) return false
      this.insertLink.run(this.repositories.ensure(repository), digest.text, Date.now())
      return true
    })()
  }

  /**
   * A HEAD before a push means the client will reference the blob: keep it fresh, so GC does not
   * take it between the check and the manifest. Writes at most once a minute per link.
   */
  touch(repository: string, digest: Digest): void {
    const now = Date.now()
    this.touchLink.run(now, digest.text, repository, now - 60_000)
  }

  /** Removes `repository`'s link to the blob; the bytes stay until GC finds nothing uses them. */
  unlink(repository: string, digest: Digest): boolean {
    return this.deleteLink.run(digest.text, repository).changes > 0
  }

  /**
   * Moves a verified, complete file into its content-addressed place. The caller has
   * fsynced `sourcePath`; this renames it and makes the rename durable. Identical bytes may
   * already be there (dedupe): renaming over them is harmless.
   */
  async moveIntoPlace(sourcePath: string, digest: Digest): Promise<void> {
    const dir = this.layout.blobDir(digest)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await rename(sourcePath, this.layout.blobPath(digest))
    await fsyncPath(dir)
  }

  /** Records a blob whose file is in place and links it to `repository`. Call inside a transaction. */
  record(repository: string, digest: Digest, size: number): void {
    const now = Date.now()
    this.insertBlob.run(digest.text, size, now)
    this.insertLink.run(this.repositories.ensure(repository), digest.text, now)
  }

  fileSize(digest: Digest): Promise<number | undefined> {
    return fileSize(this.layout.blobPath(digest))
  }
}
