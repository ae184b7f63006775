// The access log: one line per request on stdout, as text or JSON (--log-format). It names the
// route, never the raw URL or headers, so no credential, token or upload secret can appear in it.
import type { FastifyReply, FastifyRequest } from 'fastify'

export type LogFormat = 'text' | 'json'

export interface AccessLogEntry {
  time: string
  listener: string
  client: string
  method: string
  /** the route, such as /v2/:name/manifests/:reference */
  route: string
  repository: string | null
  reference: string | null
  status: number
  bytesIn: number
  bytesOut: number
  ms: number
  identity: string
}

/** Lines are gathered and written together: a write per request would slow a busy registry. */
export class AccessLog {
  private pending: string[] = []
  private scheduled = false

  constructor(
    readonly format: LogFormat,
    private readonly write: (text: string) => void = (text) => void process.stdout.write(text),
  ) {}

  record(entry: AccessLogEntry): void {
    this.pending.push(this.format === 'json' ? JSON.stringify(entry) : textLine(entry))
    if (this.pending.length >= 256) return this.flush()
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.scheduled = false
    if (this.pending.length === 0) return
    const text = `${this.pending.join('\n')}\n`
    this.pending = []
    this.write(text)
  }
}

function textLine(e: AccessLogEntry): string {
  const what = e.repository ? `${e.repository}${e.reference ? ` ${e.reference}` : ''}` : e.route
  return `${e.time} ${e.listener} ${e.client} ${e.method} ${what} ${e.status} in=${e.bytesIn} out=${e.bytesOut} ${e.ms.toFixed(1)}ms ${e.identity}`
}

/** Logs one finished request. */
export function logRequest(log: AccessLog, listener: string, route: string, request: FastifyRequest, reply: FastifyReply): void {
  const params = (request.params ?? {}) as Record<string, string | undefined>
  const length = Number(reply.getHeader('content-length') ?? 0)
  log.record({
    time: new Date().toISOString(),
    listener,
    client: request.ip,
    method: request.method,
    route,
    repository: params.name ?? null,
    reference: referenceOf(route, params),
    status: reply.statusCode,
    bytesIn: Number(request.headers['content-length'] ?? 0) || 0,
    bytesOut: request.method === 'HEAD' || !Number.isFinite(length) ? 0 : length,
    ms: reply.elapsedTime,
    identity: request.identity ?? 'anonymous',
  })
}

function referenceOf(route: string, params: Record<string, string | undefined>): string | null {
  // an upload's id is a capability: whoever knows it may write to that upload, so it is left out
  if (route.includes('/blobs/uploads')) return null
  return params.reference ?? params.digest ?? null
}
