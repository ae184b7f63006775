// Run every time a store is opened: finishes or undoes whatever a crash interrupted, so the
// store is always in one of the states fsck accepts. Costs O(upload sessions), not O(store).
import { readdir, rm } from 'node:fs/promises'
import type Database from 'better-sqlite3'
import type { BlobStore } from './blobs'
import { fileSize } from './files'
import { isValidUploadId, type StoreLayout } from './layout'
import { parseDigest } from './references'

interface PendingUpload {
  id: string
  repository: string
  size: number
  committing_digest: string | null
}

export interface RecoveryReport {
  commitsFinished: number
  sessionsDropped: number
  strayFilesRemoved: number
}

export async function recoverStore(db: Database.Database, layout: StoreLayout, blobs: BlobStore): Promise<RecoveryReport> {
  const report: RecoveryReport = { commitsFinished: 0, sessionsDropped: 0, strayFilesRemoved: 0 }
  const sessions = db.prepare<[], PendingUpload>('SELECT id, repository, size, committing_digest FROM uploads').all()
  const dropSession = db.prepare<[string]>('DELETE FROM uploads WHERE id = ?')
  const clearCommitting = db.prepare<[string]>('UPDATE uploads SET committing_digest = NULL WHERE id = ?')
  const known = new Set<string>()

  for (const session of sessions) {
    const uploadFile = await fileSize(layout.uploadPath(session.id))
    const digest = session.committing_digest ? parseDigest(session.committing_digest) : null
    if (digest && uploadFile === undefined) {
      // Crashed after the rename, before the row: the blob is complete and verified; record it.
      const size = await blobs.fileSize(digest)
      db.transaction(() => {
        if (size !== undefined) blobs.record(session.repository, digest, size)
        dropSession.run(session.id)
      })()
      if (size !== undefined) report.commitsFinished++
      else report.sessionsDropped++
      continue
    }
    if (uploadFile === undefined) {
      dropSession.run(session.id)
      report.sessionsDropped++
      continue
    }
    // Crashed before the rename: the session stays open and the client may retry its PUT.
    if (digest) clearCommitting.run(session.id)
    known.add(session.id)
  }

  // A GC removed these rows and crashed before removing their files: finish the job, unless
  // the same bytes were pushed again since.
  const pending = db.prepare<[], { digest: string }>('SELECT digest FROM pending_file_deletes').all()
  const blobRow = db.prepare<[string], { digest: string }>('SELECT digest FROM blobs WHERE digest = ?')
  for (const { digest: text } of pending) {
    const digest = parseDigest(text)
    if (digest && !blobRow.get(text)) {
      await rm(layout.blobPath(digest), { force: true })
      report.strayFilesRemoved++
    }
    db.prepare('DELETE FROM pending_file_deletes WHERE digest = ?').run(text)
  }

  for (const name of await listDir(layout.uploadsDir)) {
    if (isValidUploadId(name) && known.has(name)) continue
    await rm(`${layout.uploadsDir}/${name}`, { force: true, recursive: true })
    report.strayFilesRemoved++
  }
  return report
}


async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path)
  } catch {
    return []
  }
}
