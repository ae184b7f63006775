// Registry activity for the GUI: pushes, pulls, deletes, and failures (refused logins, TLS
// handshakes a client gave up on). Writes are batched so a burst of pulls costs one
// transaction, not one per request; subscribers hear of each event at once.
import type Database from 'better-sqlite3'

export type EventKind = 'push' | 'pull' | 'delete' | 'undo' | 'tag' | 'gc' | 'auth' | 'tls'

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
}

const FLUSH_DELAY_MS = 200
const MAX_QUEUED = 1000

export class EventLog {
  private queue: RegistryEvent[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly insert
  private readonly listeners = new Set<(event: RegistryEvent) => void>()

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO events (at, kind, repository, reference, digest, user_agent, detail)
       VALUES (@at, @kind, @repository, @reference, @digest, @userAgent, @detail)`,
    )
  }

  record(event: Omit<RegistryEvent, 'at' | 'id'>): void {
    const recorded = { id: 0, at: Date.now(), ...event }
    this.queue.push(recorded)
    for (const listener of this.listeners) {
      try {
        listener(recorded)
      } catch {
        // a failing subscriber (a closed GUI stream) must not fail the request that made the event
      }
    }
    if (this.queue.length >= MAX_QUEUED) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref()
  }

  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.queue
    if (batch.length === 0) return
    this.queue = []
    this.db.transaction(() => {
      for (const event of batch) {
        const { id: _unwritten, ...columns } = event
        event.id = Number(this.insert.run({ repository: null, reference: null, digest: null, userAgent: null, detail: null, ...columns }).lastInsertRowid)
      }
    })()
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
        `SELECT id, at, kind, repository, reference, digest, user_agent AS userAgent, detail
         FROM events ORDER BY id DESC LIMIT ?`,
      )
      .all(limit)
  }
}
