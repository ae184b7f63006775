// Prometheus metrics (prom-client, one registry per Berth, made at the first scrape): requests
// by listener, method, route and status; bytes in and out; how long uploads and pulls take;
// what the store holds; GC runs and bytes freed; rate-limited requests; webhook deliveries.
// Requests add to plain numbers (metrics-series.ts); store figures are read from SQLite when
// scraped, so they survive restarts and cost nothing between scrapes.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import { CounterTotals, HistogramFamily, type DurationSeries } from './metrics-series'
import type { Store } from './store/store'

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

type RequestLabel = 'listener' | 'method' | 'route' | 'status'

export class Metrics {
  private readonly requestTotals = new CounterTotals<RequestLabel>()
  private readonly receivedTotals = new CounterTotals<'listener'>()
  private readonly sentTotals = new CounterTotals<'listener'>()
  private readonly rateLimitedTotals = new CounterTotals<'listener'>()
  private readonly deliveryTotals = new CounterTotals<'endpoint' | 'outcome'>()
  private readonly uploads = new HistogramFamily<'listener'>('berth_upload_request_duration_seconds', 'Duration of blob upload requests (POST, PATCH, PUT)', SECONDS)
  private readonly pulls = new HistogramFamily<'listener' | 'kind'>('berth_pull_duration_seconds', 'Duration of blob and manifest GETs', SECONDS)
  /** prom-client's registry, made at the first scrape */
  private registry: Promise<Registry> | undefined

  constructor(private readonly store: Store) {}

  rateLimited(listener: string): void {
    this.rateLimitedTotals.labelled({ listener }).n++
  }

  webhookDelivery(endpoint: string, delivered: boolean): void {
    this.deliveryTotals.labelled({ endpoint, outcome: delivered ? 'delivered' : 'failed' }).n++
  }

  private async buildRegistry(): Promise<Registry> {
    const { Counter, Gauge, Registry } = await import('prom-client')
    const registry = new Registry()
    const registers = [registry]
    const counter = <L extends string>(name: string, help: string, labelNames: L[], totals: CounterTotals<L>) =>
      new Counter<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          totals.copyInto(this)
        },
      })
    counter('berth_http_requests_total', 'Registry requests by listener, method, route and status', ['listener', 'method', 'route', 'status'], this.requestTotals)
    counter('berth_http_received_bytes_total', 'Request body bytes received', ['listener'], this.receivedTotals)
    counter('berth_http_sent_bytes_total', 'Response body bytes sent', ['listener'], this.sentTotals)
    registry.registerMetric(this.uploads.asMetric())
    registry.registerMetric(this.pulls.asMetric())
    counter('berth_rate_limited_requests_total', 'Requests answered 429 by the rate limit', ['listener'], this.rateLimitedTotals)
    counter('berth_webhook_deliveries_total', 'Webhook delivery attempts by endpoint and outcome', ['endpoint', 'outcome'], this.deliveryTotals)

    const fromStore = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read())
        },
      })
    const one = (sql: string) => () => Number((this.store.db.prepare(sql).get() as { n: number | null }).n ?? 0)
    fromStore('berth_stored_bytes', 'Bytes stored: blobs and manifests', one('SELECT (SELECT coalesce(sum(size), 0) FROM blobs) + (SELECT coalesce(sum(size), 0) FROM manifests) AS n'))
    fromStore('berth_blobs', 'Blobs stored', one('SELECT count(*) AS n FROM blobs'))
    fromStore('berth_manifests', 'Manifests stored', one('SELECT count(*) AS n FROM manifests'))
    fromStore('berth_repositories', 'Repositories holding a manifest', one('SELECT count(*) AS n FROM repositories r WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)'))
    fromStore('berth_gc_runs_total', 'Garbage collections run (dry runs excluded), since the store was made', one('SELECT count(*) AS n FROM gc_runs WHERE dry_run = 0 AND finished_at IS NOT NULL'))
    fromStore('berth_gc_freed_bytes_total', 'Bytes garbage collection freed, since the store was made', one('SELECT coalesce(sum(bytes), 0) AS n FROM gc_runs WHERE dry_run = 0'))
    return registry
  }

  /** What one route of one listener records per finished request; made once, when the route is. */
  forRoute(listener: string, route: string): RouteMetrics {
    // bytes in and out are per listener: every route of it adds to the same totals
    const bytes = { received: this.receivedTotals.labelled({ listener }), sent: this.sentTotals.labelled({ listener }) }
    const duration = (method: string) =>
      route.includes('/blobs/uploads')
        ? this.uploads.labelled({ listener })
        : method === 'GET' && route.endsWith('/blobs/:digest')
          ? this.pulls.labelled({ listener, kind: 'blob' })
          : method === 'GET' && route.endsWith('/manifests/:reference')
            ? this.pulls.labelled({ listener, kind: 'manifest' })
            : undefined
    return new RouteMetrics(bytes, duration, (method, status) => this.requestTotals.labelled({ listener, method, route, status: String(status) }))
  }

  async text(): Promise<{ contentType: string; body: string }> {
    const registry = await (this.registry ??= this.buildRegistry())
    return { contentType: registry.contentType, body: await registry.metrics() }
  }
}

/** The series of one route, by method and status: two Map lookups per request, no allocation. */
export class RouteMetrics {
  private readonly methods = new Map<string, { statuses: Map<number, { n: number }>; duration: DurationSeries | undefined }>()

  constructor(
    private readonly bytes: { received: { n: number }; sent: { n: number } },
    private readonly durationFor: (method: string) => DurationSeries | undefined,
    private readonly requestsFor: (method: string, status: number) => { n: number },
  ) {}

  observe(request: FastifyRequest, reply: FastifyReply): void {
    const method = request.method
    let series = this.methods.get(method)
    if (!series) {
      series = { statuses: new Map(), duration: this.durationFor(method) }
      this.methods.set(method, series)
    }
    const status = reply.statusCode
    let requests = series.statuses.get(status)
    if (!requests) {
      requests = this.requestsFor(method, status)
      series.statuses.set(status, requests)
    }
    requests.n++
    const received = Number(request.headers['content-length'] ?? 0)
    if (received > 0) this.bytes.received.n += received
    const sent = method === 'HEAD' ? 0 : Number(reply.getHeader('content-length') ?? 0)
    if (sent > 0) this.bytes.sent.n += sent
    series.duration?.observe(reply.elapsedTime / 1000)
  }
}

/**
 * `--metrics ADDR`: GET /metrics on a loopback port of its own, for a Prometheus that cannot
 * send the admin token. The Host header must name loopback (a DNS-rebinding page cannot read it).
 */
export async function buildMetricsApp(metrics: Metrics): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, return503OnClosing: true })
  app.addHook('onRequest', async (request, reply) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '')
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) return reply.status(403).type('text/plain').send('refused: the Host header does not name this listener\n')
  })
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.text()
    return reply.type(contentType).send(body)
  })
  return app
}
