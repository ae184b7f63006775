// Prometheus metrics (prom-client, one registry per Berth): requests by listener, method, route
// and status; bytes in and out; how long uploads and pulls take; what the store holds; GC runs
// and bytes freed; rate-limited requests; webhook deliveries. Store figures are read from
// SQLite when scraped, so they survive restarts and cost nothing between scrapes.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Store } from './store/store'

interface RequestSeries {
  requests: { inc: () => void }
  received: { inc: (n: number) => void }
  sent: { inc: (n: number) => void }
  duration: { observe: (seconds: number) => void } | undefined
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

export class Metrics {
  readonly registry = new Registry()
  private readonly requests: Counter<'listener' | 'method' | 'route' | 'status'>
  private readonly bytesIn: Counter<'listener'>
  private readonly bytesOut: Counter<'listener'>
  private readonly uploads: Histogram<'listener'>
  private readonly pulls: Histogram<'listener' | 'kind'>
  readonly rateLimited: Counter<'listener'>
  readonly webhookDeliveries: Counter<'endpoint' | 'outcome'>

  constructor(store: Store) {
    const registers = [this.registry]
    this.requests = new Counter({ name: 'berth_http_requests_total', help: 'Registry requests by listener, method, route and status', labelNames: ['listener', 'method', 'route', 'status'], registers })
    this.bytesIn = new Counter({ name: 'berth_http_received_bytes_total', help: 'Request body bytes received', labelNames: ['listener'], registers })
    this.bytesOut = new Counter({ name: 'berth_http_sent_bytes_total', help: 'Response body bytes sent', labelNames: ['listener'], registers })
    this.uploads = new Histogram({ name: 'berth_upload_request_duration_seconds', help: 'Duration of blob upload requests (POST, PATCH, PUT)', labelNames: ['listener'], buckets: SECONDS, registers })
    this.pulls = new Histogram({ name: 'berth_pull_duration_seconds', help: 'Duration of blob and manifest GETs', labelNames: ['listener', 'kind'], buckets: SECONDS, registers })
    this.rateLimited = new Counter({ name: 'berth_rate_limited_requests_total', help: 'Requests answered 429 by the rate limit', labelNames: ['listener'], registers })
    this.webhookDeliveries = new Counter({ name: 'berth_webhook_deliveries_total', help: 'Webhook delivery attempts by endpoint and outcome', labelNames: ['endpoint', 'outcome'], registers })

    const fromStore = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read())
        },
      })
    const one = (sql: string) => () => Number((store.db.prepare(sql).get() as { n: number | null }).n ?? 0)
    fromStore('berth_stored_bytes', 'Bytes stored: blobs and manifests', one('SELECT (SELECT coalesce(sum(size), 0) FROM blobs) + (SELECT coalesce(sum(size), 0) FROM manifests) AS n'))
    fromStore('berth_blobs', 'Blobs stored', one('SELECT count(*) AS n FROM blobs'))
    fromStore('berth_manifests', 'Manifests stored', one('SELECT count(*) AS n FROM manifests'))
    fromStore('berth_repositories', 'Repositories holding a manifest', one('SELECT count(*) AS n FROM repositories r WHERE EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id)'))
    fromStore('berth_gc_runs_total', 'Garbage collections run (dry runs excluded), since the store was made', one('SELECT count(*) AS n FROM gc_runs WHERE dry_run = 0 AND finished_at IS NOT NULL'))
    fromStore('berth_gc_freed_bytes_total', 'Bytes garbage collection freed, since the store was made', one('SELECT coalesce(sum(bytes), 0) AS n FROM gc_runs WHERE dry_run = 0'))
  }

  /** label children by their values: prom-client hashes the labels on every call otherwise */
  private readonly children = new Map<string, RequestSeries>()

  /** One finished registry request: a few map lookups and additions (measured by `npm run bench`). */
  observe(listener: string, route: string, request: FastifyRequest, reply: FastifyReply): void {
    const key = `${listener} ${request.method} ${route} ${reply.statusCode}`
    let series = this.children.get(key)
    if (!series) {
      const duration = route.includes('/blobs/uploads')
        ? this.uploads.labels(listener)
        : request.method === 'GET' && route.endsWith('/blobs/:digest')
          ? this.pulls.labels(listener, 'blob')
          : request.method === 'GET' && route.endsWith('/manifests/:reference')
            ? this.pulls.labels(listener, 'manifest')
            : undefined
      series = { requests: this.requests.labels(listener, request.method, route, String(reply.statusCode)), received: this.bytesIn.labels(listener), sent: this.bytesOut.labels(listener), duration }
      this.children.set(key, series)
    }
    series.requests.inc()
    const received = Number(request.headers['content-length'] ?? 0)
    if (received > 0) series.received.inc(received)
    const sent = request.method === 'HEAD' ? 0 : Number(reply.getHeader('content-length') ?? 0)
    if (sent > 0) series.sent.inc(sent)
    series.duration?.observe(reply.elapsedTime / 1000)
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() }
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
