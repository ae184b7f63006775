// Registry activity for the GUI: pushes, pulls, deletes, and failures (refused logins, TLS
// handshakes a client gave up on). Kept bounded whatever clients send:
//  - every text field is capped (a 16 KB User-Agent is stored as 256 characters),
//  - pulls of one reference by one client within a minute are one row with a count,
//  - rows older than the retention or past the row cap are pruned.
// Writes are batched, off the request path, and never throw: a full disk or a locked database
// drops or defers activity rows, it does not take the server down.
import type Database from 'better-sqlite3'
import { isBusyError } from './errors'

export type EventKind = 'push' | 'pull' | 'delete' | 'undo' | 'tag' | 'gc' | 'auth' | 'tls' | 'store'

export interface RegistryEvent {
  /** the row id; 0 until the event is written */
  id: number
  at: number
  kind: EventKind
  repository?: string
  reference?: string
  digest?: string
  userAgent?: string
  detail?: string
  /** how many times it happened (pulls within a minute are coalesced) */
  count?: number
}

type NewEvent = Omit<RegistryEvent, 'at' | 'id' | 'count'>

const FLUSH_DELAY_MS = 200
const MAX_QUEUED = 1000
/** Events waiting while the database refuses writes; past it the oldest are dropped. */
const MAX_DEFERRED = 10_000
const COALESCE_MS = 60_000
const MAX_COALESCE_KEYS = 10_000
export const EVENT_LIMITS = { userAgent: 256, detail: 1000, name: 512, rows: 50_000, retentionMs: 30 * 24 * 60 * 60 * 1000 }
const PRUNE_EVERY_MS = 60_000

const cap = (text: string | undefined, length: number) => (text === undefined || text.length <= length ? text : `${text.slice(0, length - 1)}…`)

export class EventLog {
  private queue: RegistryEvent[] = []
  /** written rows whose count grew since: id → count */
  private recounted = new Map<RegistryEvent, number>()
  private coalescing = new Map<string, RegistryEvent>()
  private coalescingSince = 0
  private timer: NodeJS.Timeout | undefined
  private lastPrune = 0
  private failures = 0
  private readonly insert
  private readonly updateCount
  private readonly listeners = new Set<(event: RegistryEvent) => void>()

  /** told once per failing stretch of writes, for the server's log */
  onWriteFailure: (error: Error) => void = () => {}

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO events (at, kind, repository, reference, digest, user_agent, detail, count)
       VALUES (@at, @kind, @repository, @reference, @digest, @userAgent, @detail, @count)`,
    )
    this.updateCount = db.prepare<[number, number]>('UPDATE events SET count = ? WHERE id = ?')
  }

  record(input: NewEvent): void {
    const event: RegistryEvent = {
      id: 0,
      at: Date.now(),
      count: 1,
      ...input,
      repository: cap(input.repository, EVENT_LIMITS.name),
      reference: cap(input.reference, EVENT_LIMITS.name),
      userAgent: cap(input.userAgent, EVENT_LIMITS.userAgent),
      detail: cap(input.detail, EVENT_LIMITS.detail),
    }
    if (event.kind === 'pull' && this.coalesce(event)) return
    this.queue.push(event)
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // a failing subscriber (a closed GUI stream) must not fail the request that made the event
      }
    }
    this.schedule()
  }

  /** Counts a repeated pull into the row of its first pull this minute; true when it did. */
  private coalesce(event: RegistryEvent): boolean {
    if (event.at - this.coalescingSince > COALESCE_MS || this.coalescing.size >= MAX_COALESCE_KEYS) {
      this.coalescing.clear()
      this.coalescingSince = event.at
    }
    const key = [event.repository, event.reference, event.userAgent].join('\0')
    const first = this.coalescing.get(key)
    if (!first) {
      this.coalescing.set(key, event)
      return false
    }
    first.count = (first.count ?? 1) + 1
    if (first.id !== 0) this.recounted.set(first, first.count)
    this.schedule()
    return true
  }

  private schedule(): void {
    if (this.queue.length >= MAX_QUEUED) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref()
  }

  /** Writes what is queued. Never throws: a busy database defers the batch, a full disk drops it. */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.queue
    const recounted = this.recounted
    if (batch.length === 0 && recounted.size === 0) return
    this.queue = []
    this.recounted = new Map()
    try {
      this.db.transaction(() => {
        for (const event of batch) {
          const { id: _unwritten, ...columns } = event
          event.id = Number(this.insert.run({ repository: null, reference: null, digest: null, userAgent: null, detail: null, ...columns }).lastInsertRowid)
        }
        for (const [event, count] of recounted) this.updateCount.run(count, event.id)
        this.prune()
      })()
      this.failures = 0
    } catch (error) {
      for (const event of batch) event.id = 0
      if (this.failures++ === 0) this.onWriteFailure(error as Error)
      if (isBusyError(error)) {
        // keep them and try again later, off the request path
        this.queue = [...batch, ...this.queue].slice(-MAX_DEFERRED)
        for (const [event, count] of recounted) if (event.id !== 0) this.recounted.set(event, count)
        this.timer ??= setTimeout(() => this.flush(), Math.min(30_000, 500 * this.failures)).unref()
      }
      // anything else (a full disk): the activity rows are dropped; the registry goes on
    }
  }

  /** Keeps the table within the row cap and the retention, at most once a minute. */
  private prune(): void {
    const now = Date.now()
    if (now - this.lastPrune < PRUNE_EVERY_MS) return
    this.lastPrune = now
    this.db
      .prepare('DELETE FROM events WHERE at < ? OR id <= (SELECT max(id) FROM events) - ?')
      .run(now - EVENT_LIMITS.retentionMs, EVENT_LIMITS.rows)
  }

  /** Calls `listener` for every event as it is recorded; returns the unsubscribe. */
  subscribe(listener: (event: RegistryEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  recent(limit: number): RegistryEvent[] {
    this.flush()
    return this.db
      .prepare<[number], RegistryEvent>(
        `SELECT id, at, kind, repository, reference, digest, user_agent AS userAgent, detail, count
         FROM events ORDER BY id DESC LIMIT ?`,
      )
      .all(limit)
  }
}
