// Delivers queued webhook events: per endpoint, the oldest event first and only it, so order is
// kept; a failure waits its backoff and blocks the endpoint's later events until it goes through.
// Endpoints are independent: a hanging one (cut by its timeout) delays no other.
import type { Metrics } from '../metrics'
import { EVENTS_MEDIA_TYPE, makeEvent, type DistributionEvent, type Webhook, type Webhooks } from './webhooks'

export interface Outcome {
  status: number | null
  error: string | null
  ms: number
}

const TICK_MS = 250
/** how often the queue is checked against its cap */
const TRIM_EVERY_TICKS = 40

export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined
  private readonly inFlight = new Map<string, Promise<void>>()
  private stopped = false
  private ticks = 0

  constructor(
    private readonly webhooks: Webhooks,
    private readonly metrics?: Metrics,
    private readonly log: (line: string) => void = () => {},
  ) {}

  start(): void {
    this.webhooks.onQueued = () => this.kick()
    this.timer = setInterval(() => {
      if (++this.ticks % TRIM_EVERY_TICKS === 0) this.trim()
      this.kick()
    }, TICK_MS)
    this.timer.unref()
    this.kick()
  }

  /** Stops starting deliveries and waits for the ones under way (each is bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    this.webhooks.onQueued = () => {}
    await Promise.all(this.inFlight.values())
  }

  private trim(): void {
    try {
      for (const { name, dropped } of this.webhooks.trim()) this.log(`berth: webhook ${name}: its receiver has been down long; dropped the ${dropped} oldest waiting events`)
    } catch {
      // busy: the next check trims
    }
  }

  private kick(): void {
    if (this.stopped) return
    let hooks: Webhook[]
    try {
      hooks = this.webhooks.list()
    } catch {
      return // the database is busy: the next tick tries again
    }
    for (const hook of hooks) {
      if (this.inFlight.has(hook.name)) continue
      const delivery = this.deliverNext(hook).finally(() => this.inFlight.delete(hook.name))
      this.inFlight.set(hook.name, delivery)
    }
  }

  private async deliverNext(hook: Webhook): Promise<void> {
    const head = this.webhooks.head(hook.name)
    if (!head || head.nextAt > Date.now()) return
    const outcome = await post(hook, head.event)
    const delivered = isDelivered(outcome)
    try {
      this.webhooks.settle(hook, head, outcome)
    } catch (error) {
      // not recorded (a busy database, or the endpoint was removed meanwhile): it is sent again
      this.log(`berth: webhook ${hook.name}: delivery not recorded: ${(error as Error).message}`)
      return
    }
    this.metrics?.webhookDelivery(hook.name, delivered)
    // the next event of this endpoint goes at once
    if (delivered && !this.stopped) setImmediate(() => this.kick())
  }

  /** `berth webhook test`: a test event sent now, outside the queue, and logged like the others. */
  async test(name: string): Promise<Outcome & { eventId: string }> {
    const hook = this.webhooks.get(name)
    if (!hook) throw new Error(`no webhook named ${name}`)
    const event = testEvent(this.webhooks.instanceId)
    const outcome = await post(hook, event)
    this.webhooks.settle(hook, { id: -1, event, attempts: 0 }, outcome)
    return { ...outcome, eventId: event.id }
  }
}

export function testEvent(instanceID: string): DistributionEvent {
  return makeEvent(
    'push',
    { repository: 'berth/webhook-test', tag: 'test', mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 0, length: 0 },
    { method: 'POST', useragent: 'berth webhook test' },
    'berth',
    { addr: '', instanceID },
  )
}

function isDelivered(outcome: Outcome): boolean {
  return outcome.status !== null && outcome.status >= 200 && outcome.status < 300
}

/** One POST of one event in distribution's envelope, cut at the endpoint's timeout. */
export async function post(hook: Webhook, event: DistributionEvent): Promise<Outcome> {
  const started = performance.now()
  try {
    const response = await fetch(hook.url, {
      method: 'POST',
      headers: { ...hook.headers, 'Content-Type': EVENTS_MEDIA_TYPE, 'User-Agent': 'berth-webhooks' },
      body: JSON.stringify({ events: [event] }),
      signal: AbortSignal.timeout(hook.timeoutMs),
      redirect: 'manual',
    })
    await response.body?.cancel()
    return { status: response.status, error: response.ok ? null : `answered ${response.status}`, ms: performance.now() - started }
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } }
    const why = e.name === 'TimeoutError' ? `no answer within ${hook.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message)
    return { status: null, error: why, ms: performance.now() - started }
  }
}
