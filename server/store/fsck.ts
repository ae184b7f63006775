// Verifies a store: every blob's bytes against its digest and size, that every row has its
// file and every file its row, manifest bytes and references, and upload sessions.
// `repair` removes only what nothing references.
import { createHash } from 'node:crypto'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { fileSize } from './files'
import { isValidUploadId, type StoreLayout } from './layout'
import { parseDigest } from './references'
import { hashFile } from './uploads'

export type ProblemKind =
  | 'database-corrupt'
  | 'dangling-reference'
  | 'blob-file-missing'
  | 'blob-corrupt'
  | 'orphan-blob-file'
  | 'unexpected-file'
  | 'manifest-corrupt'
  | 'upload-file-missing'
  | 'orphan-upload-file'

export interface FsckProblem {
  kind: ProblemKind
  /** the digest, path or row the problem is about */
  subject: string
  detail: string
  /** whether --repair may remove it (nothing references it) */
  repairable: boolean
}

export interface FsckReport {
  clean: boolean
  checked: { blobs: number; bytes: number; manifests: number; tags: number; uploads: number }
  problems: FsckProblem[]
  repaired: FsckProblem[]
}

export interface FsckOptions {
  repair?: boolean
  /** work a running server has in flight: not damage, whatever it looks like mid-write */
  inFlight?: () => { uploadIds: ReadonlySet<string>; digests: ReadonlySet<string> }
}

export async function fsck(db: Database.Database, layout: StoreLayout, options: FsckOptions = {}): Promise<FsckReport> {
  const inFlight = options.inFlight ?? (() => ({ uploadIds: new Set<string>(), digests: new Set<string>() }))
  const problems: FsckProblem[] = []
  const repairs = new Map<FsckProblem, () => Promise<void> | void>()
  const problem = (p: FsckProblem, repair?: () => Promise<void> | void) => {
    problems.push(p)
    if (p.repairable && repair) repairs.set(p, repair)
  }

  const integrity = db.pragma('quick_check', { simple: true })
  if (integrity !== 'ok') problem({ kind: 'database-corrupt', subject: layout.databasePath, detail: String(integrity), repairable: false })
  for (const row of db.pragma('foreign_key_check') as { table: string; rowid: number; parent: string }[]) {
    problem({
      kind: 'dangling-reference',
      subject: `${row.table} row ${row.rowid}`,
      detail: `refers to a missing ${row.parent} row`,
      repairable: false,
    })
  }

  const usedByManifest = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM manifest_blobs WHERE digest = ?')
  const forgetBlob = db.transaction((digest: string) => {
    db.prepare('DELETE FROM repository_blobs WHERE digest = ?').run(digest)
    db.prepare('DELETE FROM blobs WHERE digest = ?').run(digest)
  })
  // a running GC removes these files right after their rows
  const pendingDelete = db.prepare<[string], { digest: string }>('SELECT digest FROM pending_file_deletes WHERE digest = ?')
  // re-asked per file: a blob committed while the walk ran has a row by now
  const blobRow = db.prepare<[string], { digest: string }>('SELECT digest FROM blobs WHERE digest = ?')
  const blobRows = db.prepare<[], { digest: string; size: number }>('SELECT digest, size FROM blobs').all()
  const blobDigests = new Set<string>()
  let bytes = 0
  for (const row of blobRows) {
    blobDigests.add(row.digest)
    const digest = parseDigest(row.digest)
    if (!digest) {
      problem({ kind: 'blob-corrupt', subject: row.digest, detail: 'the row holds an invalid digest', repairable: false })
      continue
    }
    const path = layout.blobPath(digest)
    const referenced = usedByManifest.get(row.digest)!.n > 0
    const size = await fileSize(path)
    if (size === undefined) {
      problem(
        { kind: 'blob-file-missing', subject: row.digest, detail: `no file at ${path}`, repairable: !referenced },
        () => forgetBlob(row.digest),
      )
      continue
    }
    bytes += size
    const actual = size === row.size ? await hashFile(path, digest.algorithm) : undefined
    if (size !== row.size || actual !== digest.hex) {
      const detail = size !== row.size ? `file has ${size} bytes, the row says ${row.size}` : `file content hashes to ${digest.algorithm}:${actual}`
      problem({ kind: 'blob-corrupt', subject: row.digest, detail, repairable: !referenced }, async () => {
        forgetBlob(row.digest)
        await rm(path, { force: true })
      })
    }
  }

  for (const file of await walkFiles(layout.blobsDir)) {
    const parts = file.slice(layout.blobsDir.length + 1).split('/')
    const digest = parts.length === 3 ? parseDigest(`${parts[0]}:${parts[2]}`) : null
    if (!digest || layout.blobPath(digest) !== file) {
      problem({ kind: 'unexpected-file', subject: file, detail: 'not a blob file of this layout', repairable: true }, () =>
        rm(file, { force: true }),
      )
    } else if (!blobDigests.has(digest.text) && !inFlight().digests.has(digest.text) && !blobRow.get(digest.text) && !pendingDelete.get(digest.text) && (await fileSize(file)) !== undefined) {
      problem({ kind: 'orphan-blob-file', subject: file, detail: `no row for ${digest.text}`, repairable: true }, () =>
        rm(file, { force: true }),
      )
    }
  }

  const manifests = db
    .prepare<[], { digest: string; size: number; content: Buffer; repository: string }>(
      'SELECT m.digest, m.size, m.content, r.name AS repository FROM manifests m JOIN repositories r ON r.id = m.repository_id',
    )
    .all()
  for (const manifest of manifests) {
    const digest = parseDigest(manifest.digest)
    const actual = digest ? createHash(digest.algorithm).update(manifest.content).digest('hex') : undefined
    if (!digest || actual !== digest.hex || manifest.size !== manifest.content.length) {
      problem({
        kind: 'manifest-corrupt',
        subject: `${manifest.repository}@${manifest.digest}`,
        detail: 'the stored bytes do not match the digest or size',
        repairable: false,
      })
    }
  }

  const uploads = db.prepare<[], { id: string }>('SELECT id FROM uploads').all()
  const uploadIds = new Set(uploads.map((u) => u.id))
  const uploadRow = db.prepare<[string], { id: string }>('SELECT id FROM uploads WHERE id = ?')
  for (const { id } of uploads) {
    if (inFlight().uploadIds.has(id)) continue
    if ((await fileSize(layout.uploadPath(id))) === undefined && uploadRow.get(id)) {
      problem({ kind: 'upload-file-missing', subject: id, detail: 'the upload session has no data file', repairable: true }, () => {
        db.prepare('DELETE FROM uploads WHERE id = ?').run(id)
      })
    }
  }
  for (const file of await walkFiles(layout.uploadsDir)) {
    const name = file.slice(layout.uploadsDir.length + 1)
    const owned = isValidUploadId(name) && (uploadIds.has(name) || inFlight().uploadIds.has(name) || uploadRow.get(name))
    if (!owned && (await fileSize(file)) !== undefined) {
      problem({ kind: 'orphan-upload-file', subject: file, detail: 'no upload session owns this file', repairable: true }, () =>
        rm(file, { force: true }),
      )
    }
  }

  const repaired: FsckProblem[] = []
  if (options.repair) {
    for (const [p, repair] of repairs) {
      await repair()
      repaired.push(p)
    }
  }
  const tags = (db.prepare('SELECT count(*) AS n FROM tags').get() as { n: number }).n
  const remaining = problems.filter((p) => !repaired.includes(p))
  return {
    clean: remaining.length === 0,
    checked: { blobs: blobRows.length, bytes, manifests: manifests.length, tags, uploads: uploads.length },
    problems: remaining,
    repaired,
  }
}


async function walkFiles(dir: string): Promise<string[]> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return []
  }
  const files: string[] = []
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...(await walkFiles(path)))
    else files.push(path)
  }
  return files
}
