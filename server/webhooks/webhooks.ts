// Webhooks in CNCF distribution's notification format: push, pull and delete events, each with
// its target, request, actor and source, posted as `application/vnd.docker.distribution.events.v1+json`
// to the endpoints a user configures. Events wait in a SQLite queue (one row per event and
// endpoint) until delivered, so a restart or kill -9 loses none; the dispatcher delivers them in
// order per endpoint. Delivery is at least once: a receiver should use the event id to skip repeats.
import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'

export type WebhookAction = 'push' | 'pull' | 'delete'
export const WEBHOOK_ACTIONS: WebhookAction[] = ['push', 'pull', 'delete']
export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json'

export interface Webhook {
  name: string
  url: string
  headers: Record<string, string>
  actions: WebhookAction[]
  /** targets of these media types are not sent (distribution's ignoredmediatypes) */
  ignoredMediaTypes: string[]
  timeoutMs: number
  /** failures in a row after which the wait between attempts grows (distribution's threshold) */
  threshold: number
  /** the wait between attempts (distribution's backoff) */
  backoffMs: number
}

export interface WebhookSettings {
  name: string
  url: string
  headers?: Record<string, string>
  actions?: WebhookAction[]
  ignoredMediaTypes?: string[]
  timeoutMs?: number
  threshold?: number
  backoffMs?: number
}

/** One event as distribution sends it. */
export interface DistributionEvent {
  id: string
  timestamp: string
  action: WebhookAction
  target: { mediaType?: string; size?: number; length?: number; digest?: string; repository: string; url?: string; tag?: string }
  request: { id: string; addr: string; host: string; method: string; useragent: string }
  actor: { name?: string }
  source: { addr: string; instanceID: string }
}

export interface Delivery {
  id: number
  eventId: string
  action: WebhookAction
  attempt: number
  /** the receiver's HTTP status, or null when there was no answer */
  status: number | null
  error: string | null
  at: number
  ms: number
}

export class WebhookError extends Error {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const DEFAULTS = { timeoutMs: 5000, threshold: 3, backoffMs: 1000 }
/** the delivery log keeps this many attempts per endpoint */
const LOG_PER_ENDPOINT = 1000
/** an endpoint that stays down keeps at most this many events waiting; the oldest go first */
export const MAX_QUEUED_PER_ENDPOINT = 50_000
/** the longest wait between two attempts, however many failed */
const MAX_BACKOFF_MS = 5 * 60 * 1000

interface WebhookRow {
  name: string
  url: string
  headers: string
  actions: string
  ignored_media_types: string
  timeout_ms: number
  threshold: number
  backoff_ms: number
}

export class Webhooks {
  /** this process: distribution's source.instanceID */
  readonly instanceId = randomUUID()
  private cache: Webhook[] | undefined
  /** told when an event is queued, so the dispatcher need not wait for its next tick */
  onQueued: () => void = () => {}

  constructor(private readonly db: Database.Database) {}

  list(): Webhook[] {
    this.cache ??= this.db
      .prepare<[], WebhookRow>('SELECT * FROM webhooks ORDER BY name')
      .all()
      .map((r) => ({
        name: r.name,
        url: r.url,
        headers: JSON.parse(r.headers) as Record<string, string>,
        actions: r.actions.split(',').filter(Boolean) as WebhookAction[],
        ignoredMediaTypes: r.ignored_media_types.split(',').filter(Boolean),
        timeoutMs: r.timeout_ms,
        threshold: r.threshold,
        backoffMs: r.backoff_ms,
      }))
    return this.cache
  }

  get(name: string): Webhook | undefined {
    return this.list().find((w) => w.name === name)
  }

  add(settings: WebhookSettings): Webhook {
    if (!NAME.test(settings.name)) throw new WebhookError(`not a webhook name: ${JSON.stringify(settings.name)} (letters, digits, . _ -)`)
    let url: URL
    try {
      url = new URL(settings.url)
    } catch {
      throw new WebhookError(`not a URL: ${JSON.stringify(settings.url)}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookError(`a webhook URL is http or https, not ${url.protocol}`)
    const actions = settings.actions ?? WEBHOOK_ACTIONS
    const unknown = actions.find((a) => !WEBHOOK_ACTIONS.includes(a))
    if (unknown || actions.length === 0) throw new WebhookError(`actions are push, pull and delete, not ${JSON.stringify(unknown ?? '')}`)
    const headers = settings.headers ?? {}
    for (const [key, value] of Object.entries(headers)) {
      if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key) || /[\r\n]/.test(value)) throw new WebhookError(`not a header: ${JSON.stringify(`${key}: ${value}`)}`)
    }
    const number = (value: number | undefined, fallback: number, what: string, min: number) => {
      const n = value ?? fallback
      if (!Number.isFinite(n) || n < min) throw new WebhookError(`${what} must be at least ${min}`)
      return Math.round(n)
    }
    const hook: Webhook = {
      name: settings.name,
      url: url.toString(),
      headers,
      actions,
      ignoredMediaTypes: settings.ignoredMediaTypes ?? [],
      timeoutMs: number(settings.timeoutMs, DEFAULTS.timeoutMs, 'the timeout', 100),
      threshold: number(settings.threshold, DEFAULTS.threshold, 'the threshold', 1),
      backoffMs: number(settings.backoffMs, DEFAULTS.backoffMs, 'the backoff', 10),
    }
    try {
      this.db
        .prepare(
          `INSERT INTO webhooks (name, url, headers, actions, ignored_media_types, timeout_ms, threshold, backoff_ms, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(hook.name, hook.url, JSON.stringify(hook.headers), hook.actions.join(','), hook.ignoredMediaTypes.join(','), hook.timeoutMs, hook.threshold, hook.backoffMs, Date.now())
    } catch (error) {
      if (/UNIQUE/.test((error as Error).message)) throw new WebhookError(`there is already a webhook named ${hook.name}`)
      throw error
    }
    this.cache = undefined
    return hook
  }

  /** Removes an endpoint, its queue and its log. */
  remove(name: string): boolean {
    const removed = this.db.prepare('DELETE FROM webhooks WHERE name = ?').run(name).changes > 0
    this.cache = undefined
    return removed
  }

  /** Queues an event for every endpoint that wants it. Cheap when there are none. */
  enqueue(event: DistributionEvent): void {
    const hooks = this.list().filter((w) => w.actions.includes(event.action) && !(event.target.mediaType && w.ignoredMediaTypes.includes(event.target.mediaType)))
    if (hooks.length === 0) return
    const insert = this.db.prepare('INSERT INTO webhook_queue (webhook, event, created_at, next_at) VALUES (?, ?, ?, ?)')
    const now = Date.now()
    const text = JSON.stringify(event)
    this.db.transaction(() => {
      for (const hook of hooks) insert.run(hook.name, text, now, now)
    })()
    this.onQueued()
  }

  /** The oldest undelivered event of an endpoint: the only one it may be sent (order per endpoint). */
  head(name: string): { id: number; event: DistributionEvent; attempts: number; nextAt: number } | undefined {
    const row = this.db
      .prepare<[string], { id: number; event: string; attempts: number; next_at: number }>('SELECT id, event, attempts, next_at FROM webhook_queue WHERE webhook = ? ORDER BY id LIMIT 1')
      .get(name)
    return row ? { id: row.id, event: JSON.parse(row.event) as DistributionEvent, attempts: row.attempts, nextAt: row.next_at } : undefined
  }

  pending(name: string): number {
    return this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM webhook_queue WHERE webhook = ?').get(name)?.n ?? 0
  }

  /** Records one attempt; a delivered event leaves the queue, a failed one waits its backoff. */
  settle(hook: Webhook, queued: { id: number; event: DistributionEvent; attempts: number }, outcome: { status: number | null; error: string | null; ms: number }): void {
    const delivered = outcome.status !== null && outcome.status >= 200 && outcome.status < 300
    const attempt = queued.attempts + 1
    this.db.transaction(() => {
      if (delivered) this.db.prepare('DELETE FROM webhook_queue WHERE id = ?').run(queued.id)
      else this.db.prepare('UPDATE webhook_queue SET attempts = ?, next_at = ? WHERE id = ?').run(attempt, Date.now() + backoff(hook, attempt), queued.id)
      this.db
        .prepare('INSERT INTO webhook_deliveries (webhook, event_id, action, attempt, status, error, at, ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(hook.name, queued.event.id, queued.event.action, attempt, outcome.status, outcome.error, Date.now(), Math.round(outcome.ms))
      this.db
        .prepare('DELETE FROM webhook_deliveries WHERE webhook = ? AND id <= (SELECT id FROM webhook_deliveries WHERE webhook = ? ORDER BY id DESC LIMIT 1 OFFSET ?)')
        .run(hook.name, hook.name, LOG_PER_ENDPOINT)
    })()
  }

  /** Drops the oldest events of endpoints over the cap; returns how many went, by endpoint. */
  trim(): { name: string; dropped: number }[] {
    const dropped: { name: string; dropped: number }[] = []
    for (const hook of this.list()) {
      const changes = this.db
        .prepare('DELETE FROM webhook_queue WHERE webhook = ? AND id <= (SELECT id FROM webhook_queue WHERE webhook = ? ORDER BY id DESC LIMIT 1 OFFSET ?)')
        .run(hook.name, hook.name, MAX_QUEUED_PER_ENDPOINT).changes
      if (changes > 0) dropped.push({ name: hook.name, dropped: changes })
    }
    return dropped
  }

  /** The delivery log, newest first. */
  deliveries(name: string, limit = 100): Delivery[] {
    return this.db
      .prepare<[string, number], Delivery>(
        'SELECT id, event_id AS eventId, action, attempt, status, error, at, ms FROM webhook_deliveries WHERE webhook = ? ORDER BY id DESC LIMIT ?',
      )
      .all(name, limit)
  }
}

/** The wait after `attempt` failures: the backoff until the threshold, then doubling, at most 5 min. */
export function backoff(hook: Pick<Webhook, 'backoffMs' | 'threshold'>, attempt: number): number {
  if (attempt < hook.threshold) return hook.backoffMs
  return Math.min(MAX_BACKOFF_MS, hook.backoffMs * 2 ** Math.min(20, attempt - hook.threshold + 1))
}

/** An event as distribution builds it. */
export function makeEvent(
  action: WebhookAction,
  target: DistributionEvent['target'],
  request: Partial<DistributionEvent['request']>,
  actor: string | undefined,
  source: DistributionEvent['source'],
): DistributionEvent {
  return {
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    action,
    target,
    request: { id: request.id ?? randomUUID(), addr: request.addr ?? '', host: request.host ?? '', method: request.method ?? '', useragent: request.useragent ?? '' },
    actor: actor ? { name: actor } : {},
    source,
  }
}
