// Push, pull and delete events for the GUI's activity view. Writes are batched so a burst
// of pulls costs one transaction, not one per request.
import type Database from 'better-sqlite3'

export type EventKind = 'push' | 'pull' | 'delete'

export interface RegistryEvent {
  at: number
  kind: EventKind
  repository: string
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

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO events (at, kind, repository, reference, digest, user_agent, detail)
       VALUES (@at, @kind, @repository, @reference, @digest, @userAgent, @detail)`,
    )
  }

  record(event: Omit<RegistryEvent, 'at'>): void {
    this.queue.push({ at: Date.now(), ...event })
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
        this.insert.run({ reference: null, digest: null, userAgent: null, detail: null, ...event })
      }
    })()
  }

  recent(limit: number): RegistryEvent[] {
    this.flush()
    return this.db
      .prepare<[number], RegistryEvent>(
        `SELECT at, kind, repository, reference, digest, user_agent AS userAgent, detail
         FROM events ORDER BY id DESC LIMIT ?`,
      )
      .all(limit)
  }
}
