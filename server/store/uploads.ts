// Blob upload sessions. Bytes stream into uploads/<id> and are hashed in the same pass;
// nothing the size of a layer is held in memory. Sessions are rows, so they survive a restart.
import { createHash, randomUUID, type Hash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { open, rename, rm, stat, truncate } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type Database from 'better-sqlite3'
import type { BlobInfo, BlobStore } from './blobs'
import { fsyncPath } from './files'
import { retryWhileBusy, StoreError } from './errors'
import type { StoreLayout } from './layout'
import type { Digest } from './references'

export interface UploadSession {
  id: string
  repository: string
  size: number
  createdAt: number
  updatedAt: number
}

/** A byte range a client says a chunk covers (inclusive), from Content-Range. */
export interface ChunkRange {
  start: number
  end: number
}

/** The running SHA-256 of a session's bytes [0, size). */
interface HashState {
  hash: Hash
  size: number
}

interface UploadRow {
  id: string
  repository: string
  size: number
  created_at: number
  updated_at: number
}

const WRITE_BUFFER = 1 << 20

export class UploadStore {
  /** Hash states of sessions this process has touched; rebuilt from disk after a restart. */
  private readonly hashStates = new Map<string, HashState>()
  /** Sessions with a request in flight: one request at a time per session. */
  private readonly busy = new Set<string>()
  /** Digests between their rename into blobs/ and their row. */
  private readonly committing = new Map<string, number>()
  private readonly selectRow
  private readonly insertRow
  private readonly updateSize
  private readonly markCommitting
  private readonly deleteRow

  constructor(
    private readonly db: Database.Database,
    private readonly layout: StoreLayout,
    private readonly blobs: BlobStore,
  ) {
    this.selectRow = db.prepare<[string], UploadRow>(
      'SELECT id, repository, size, created_at, updated_at FROM uploads WHERE id = ?',
    )
    this.insertRow = db.prepare<[string, string, number, number]>(
      'INSERT INTO uploads (id, repository, size, created_at, updated_at) VALUES (?, ?, 0, ?, ?)',
    )
    this.updateSize = db.prepare<[number, number, string]>('UPDATE uploads SET size = ?, updated_at = ? WHERE id = ?')
    this.markCommitting = db.prepare<[string, string]>('UPDATE uploads SET committing_digest = ? WHERE id = ?')
    this.deleteRow = db.prepare<[string]>('DELETE FROM uploads WHERE id = ?')
  }

  async create(repository: string): Promise<UploadSession> {
    const id = randomUUID()
    const now = Date.now()
    this.busy.add(id)
    try {
      // Row first: a crash before the file exists leaves a row that recovery drops.
      this.insertRow.run(id, repository, now, now)
      try {
        const handle = await open(this.layout.uploadPath(id), 'wx', 0o600)
        await handle.close()
      } catch (error) {
        // no file, no session: a row without its file would read as damage to fsck
        this.deleteRow.run(id)
        throw error
      }
    } finally {
      this.busy.delete(id)
    }
    this.hashStates.set(id, { hash: createHash('sha256'), size: 0 })
    return { id, repository, size: 0, createdAt: now, updatedAt: now }
  }

  get(id: string, repository: string): UploadSession {
    const row = this.selectRow.get(id)
    if (!row || row.repository !== repository) throw new StoreError('upload-unknown', `no upload ${id} in ${repository}`)
    return { id: row.id, repository: row.repository, size: row.size, createdAt: row.created_at, updatedAt: row.updated_at }
  }

  /** Appends a chunk. With a range, it must start where the session ends and match the body's length. */
  async append(id: string, repository: string, body: Readable, range?: ChunkRange): Promise<UploadSession> {
    return this.exclusive(id, repository, async (session) => {
      const state = await this.hashState(session)
      await this.writeChunk(id, state, body, range)
      return this.saveSize(session, state.size)
    })
  }

  /**
   * Finishes the session: writes the last chunk if any, checks the digest, then commits in the
   * order verify → fsync → rename into place → row, so a crash leaves nothing or a whole blob.
   * A digest mismatch discards the session and stores nothing.
   */
  async commit(id: string, repository: string, digest: Digest, body?: Readable, range?: ChunkRange): Promise<BlobInfo> {
    return this.exclusive(id, repository, async (session) => {
      const state = await this.hashState(session)
      if (body) await this.writeChunk(id, state, body, range)
      const path = this.layout.uploadPath(id)
      const actual =
        digest.algorithm === 'sha256' ? state.hash.copy().digest('hex') : await hashFile(path, digest.algorithm, state.size)
      if (actual !== digest.hex) {
        await this.discard(id)
        throw new StoreError('digest-mismatch', `the uploaded bytes have digest ${digest.algorithm}:${actual}, not ${digest.text}`)
      }
      const size = state.size
      this.committing.set(digest.text, (this.committing.get(digest.text) ?? 0) + 1)
      let moved = false
      try {
        // Files under blobs/ only ever arrive complete (fsync, then rename), so one of the right
        // size is these bytes: stored before (dedupe) or moved by an earlier try of this commit.
        if ((await this.blobs.fileSize(digest)) !== size) {
          await fsyncPath(path)
          await retryWhileBusy(() => this.markCommitting.run(digest.text, id))
          await this.blobs.moveIntoPlace(path, digest)
          moved = true
        }
        // the file is in place: the row must follow, so a busy database is waited for, off the event loop
        await retryWhileBusy(() =>
          this.db.transaction(() => {
            this.blobs.record(repository, digest, size)
            this.deleteRow.run(id)
          })(),
        )
      } catch (error) {
        // The row could not be written (a full disk): put the file back into the session, so the
        // store stays as fsck expects and the client's retry finds its upload whole. Not when
        // another commit of the same bytes is in flight: its row will need the file.
        if (moved && this.committing.get(digest.text) === 1 && !this.blobs.stat(digest)) {
          await rename(this.layout.blobPath(digest), path).catch(() => {})
        }
        throw error
      } finally {
        const left = (this.committing.get(digest.text) ?? 1) - 1
        if (left > 0) this.committing.set(digest.text, left)
        else this.committing.delete(digest.text)
      }
      this.hashStates.delete(id)
      await rm(path, { force: true })
      return { digest: digest.text, size }
    })
  }

  async cancel(id: string, repository: string): Promise<void> {
    await this.exclusive(id, repository, () => this.discard(id))
  }

  /** What is mid-write right now, so an online fsck does not mistake it for damage. */
  inFlight(): { uploadIds: ReadonlySet<string>; digests: ReadonlySet<string> } {
    return { uploadIds: this.busy, digests: new Set(this.committing.keys()) }
  }

  private async discard(id: string): Promise<void> {
    this.deleteRow.run(id)
    this.hashStates.delete(id)
    await rm(this.layout.uploadPath(id), { force: true })
  }

  private async exclusive<T>(id: string, repository: string, work: (session: UploadSession) => Promise<T>): Promise<T> {
    const session = this.get(id, repository)
    if (this.busy.has(id)) throw new StoreError('upload-busy', `upload ${id} is busy with another request`)
    this.busy.add(id)
    try {
      return await work(session)
    } finally {
      this.busy.delete(id)
    }
  }

  private saveSize(session: UploadSession, size: number): UploadSession {
    const now = Date.now()
    this.updateSize.run(size, now, session.id)
    return { ...session, size, updatedAt: now }
  }

  /** Streams `body` to the end of the session's file, hashing as it goes; on any failure the session is as before. */
  private async writeChunk(id: string, state: HashState, body: Readable, range?: ChunkRange): Promise<void> {
    if (range && range.start !== state.size) {
      body.resume()
      throw new StoreError('upload-range', `the upload holds ${state.size} bytes; a chunk must start there, not at ${range.start}`, state.size)
    }
    const hashBefore = state.hash.copy()
    const sizeBefore = state.size
    let written = 0
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            state.hash.update(chunk)
            written += chunk.length
            yield chunk
          }
        },
        createWriteStream(this.layout.uploadPath(id), { flags: 'r+', start: sizeBefore, highWaterMark: WRITE_BUFFER }),
      )
      if (range && written !== range.end - range.start + 1) {
        throw new StoreError('upload-size', `Content-Range announced ${range.end - range.start + 1} bytes, the body had ${written}`, sizeBefore)
      }
      state.size = sizeBefore + written
    } catch (error) {
      state.hash = hashBefore
      state.size = sizeBefore
      await truncate(this.layout.uploadPath(id), sizeBefore).catch(() => {})
      throw error
    }
  }

  /** The session's hash state; after a restart it is rebuilt from the bytes on disk. */
  private async hashState(session: UploadSession): Promise<HashState> {
    const known = this.hashStates.get(session.id)
    if (known) return known
    const path = this.layout.uploadPath(session.id)
    let fileSize: number
    try {
      fileSize = (await stat(path)).size
    } catch {
      this.deleteRow.run(session.id)
      throw new StoreError('upload-unknown', `upload ${session.id} lost its data`)
    }
    // Bytes past the recorded size belong to a chunk that was never acknowledged.
    const size = Math.min(fileSize, session.size)
    if (fileSize > size) await truncate(path, size)
    const hash = await hashBytes(path, 'sha256', size)
    const state = { hash, size }
    if (size !== session.size) this.saveSize(session, size)
    this.hashStates.set(session.id, state)
    return state
  }
}

/** Hashes the first `size` bytes of a file (all of it without `size`), leaving the hash open. */
async function hashBytes(path: string, algorithm: string, size?: number): Promise<Hash> {
  const hash = createHash(algorithm)
  if (size === 0) return hash
  const end = size === undefined ? undefined : size - 1
  for await (const chunk of createReadStream(path, { end, highWaterMark: WRITE_BUFFER })) hash.update(chunk)
  return hash
}

export async function hashFile(path: string, algorithm: string, size?: number): Promise<string> {
  return (await hashBytes(path, algorithm, size)).digest('hex')
}
