// Builds the registry's Fastify app (apart from listen(), so tests can inject()).
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { accessPolicy, type AccessOptions } from '../auth/access'
import { LoginThrottle } from '../auth/throttle'
import { isIP } from 'node:net'
import { isLoopbackHost } from '../config'
import { isBusyError, isDiskFullError } from '../store/errors'
import { canonicalName } from '../tls/certificates'
import type { Store } from '../store/store'
import { type AccessLog, logRequest } from './access-log'
import { baseRoutes } from './base'
import type { RateLimiter } from './rate-limit'
import { notifyWebhooks } from './notify'
import type { Metrics } from '../metrics'
import { healthRoutes } from './health'
import type { Readiness } from '../health'
import { defaultConnectionLimits, guardConnections, type ConnectionLimits } from './connections'
import { blobRoutes } from './blobs'
import { catalogRoutes } from './catalog'
import { OciError } from './errors'
import { recordRefusal } from './failures'
import { manifestRoutes } from './manifests'
import { referrerRoutes } from './referrers'
import { registryContext, type RegistryPolicy } from './context'
import { tagRoutes } from './tags'
import { tokenRoutes } from './token'
import { uploadRoutes } from './uploads'

export interface RegistryAppOptions {
  store: Store
  policy: RegistryPolicy
  /** who may write; open when absent */
  access?: AccessOptions
  /** Node's https options for a TLS listener; plain HTTP when absent */
  https?: import('node:https').ServerOptions
  /**
   * The names this listener answers to besides loopback ones (certificate names, --host names,
   * the bound address), lowercase. A request naming any other host is refused: that is how a
   * DNS-rebinding web page would reach a registry on 127.0.0.1.
   */
  hostNames?: () => ReadonlySet<string>
  /** per-address connection cap and minimum upload progress (defaults: defaultConnectionLimits()) */
  connectionLimits?: ConnectionLimits
  /** this listener's name in the access log and the metrics (http, https, mtls) */
  listener?: string
  /** one line per request; none when absent */
  accessLog?: AccessLog
  /** Prometheus series; none when absent */
  metrics?: Metrics
  /** per-address request rates (429 over them); none when absent */
  rateLimiter?: RateLimiter
  /** what /readyz reports (the store, every listener, the disk); the store alone when absent */
  readiness?: () => Promise<Readiness>
  /** told of every write refused because the disk is full or the database busy */
  onStorageFailure?: (kind: 'STORE_FULL' | 'STORE_BUSY', error: unknown) => void
}

/**
 * Repository names may hold slashes, which a router cannot tell from path separators. The
 * route's tail (blobs/…, manifests/…, tags/list, referrers/…) can be, so the name before it
 * is folded into one URL-encoded segment and each plugin routes on `/v2/:name/...`.
 */
const REGISTRY_ROUTE = /^\/v2\/(.+)\/(blobs\/uploads\/[^/]*|blobs\/[^/]+|manifests\/[^/]+|tags\/list|referrers\/[^/]+)$/

export function foldRepositoryName(url: string): string {
  const queryAt = url.indexOf('?')
  const path = queryAt < 0 ? url : url.slice(0, queryAt)
  const match = REGISTRY_ROUTE.exec(path)
  if (!match) return url
  const query = queryAt < 0 ? '' : url.slice(queryAt)
  return `/v2/${encodeURIComponent(match[1])}/${match[2]}${query}`
}

export async function buildRegistryApp(options: RegistryAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    logger: false,
    rewriteUrl: (request) => foldRepositoryName(request.url ?? '/'),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    keepAliveTimeout: 65_000,
    // Large layers take as long as they take: no limit on a whole request. A stalled upload body
    // is cut by the minimum-progress rule (connections.ts), stalled headers by headersTimeout,
    // and a connection silent both ways by the socket timeout.
    requestTimeout: 0,
    connectionTimeout: 120_000,
    return503OnClosing: true,
    // a request the HTTP parser cannot read still gets the spec's error body
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy(error)
      const body = JSON.stringify(new OciError('BAD_REQUEST', 'malformed HTTP request').toBody())
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    },
  })

  app.server.headersTimeout = 15_000
  const rateLimitReporter = onceEvery10s(options.store, (address) => `rate-limited: ${address} sent requests faster than the rate limit; they were answered 429 with Retry-After`)
  guardConnections(app, options.connectionLimits ?? defaultConnectionLimits(), {
    tls: Boolean(options.https),
    onRefused: tooManyConnectionsReporter(options.store),
  })

  const listener = options.listener ?? 'registry'
  const { accessLog, metrics } = options
  const webhooks = options.store.webhooks
  // What follows a finished request (metrics, the access log, webhooks), as one callback hook
  // per route that knows its route: reading request.routeOptions per request costs more.
  const finished = (route: string) => {
    const routeMetrics = metrics?.forRoute(listener, route)
    return (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      routeMetrics?.observe(request, reply)
      if (accessLog) logRequest(accessLog, listener, route, request, reply)
      notifyWebhooks(webhooks, route, request, reply)
      done()
    }
  }
  app.addHook('onRoute', (route) => {
    const hooks = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]
    route.onResponse = [...hooks, finished(route.url)]
  })
  // requests no route answers (404 ROUTE_UNKNOWN) are counted too
  const unrouted = finished('(no route)')
  app.addHook('onResponse', (request, reply, done) => (request.is404 ? unrouted(request, reply, done) : done()))

  // Bodies stay streams: blobs are hashed and written as they arrive, never buffered.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))

  app.addHook('onRequest', async (request, reply) => {
    reply.header('Docker-Distribution-API-Version', 'registry/2.0')
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('X-Frame-Options', 'DENY')
    refuseWebPages(request, options.hostNames?.() ?? NO_NAMES)
    if (options.rateLimiter && !PROBES.has(request.url)) {
      const wait = options.rateLimiter.take(request.ip, !READS.has(request.method))
      if (wait !== null) {
        rateLimitReporter(request.ip)
        metrics?.rateLimited(listener)
        throw new OciError('TOOMANYREQUESTS', `${request.ip} sent more requests than this registry takes per second; retry in ${wait} s`).withHeaders({ 'Retry-After': String(wait) })
      }
    }
  })

  app.setErrorHandler((error: FastifyError | OciError, request: FastifyRequest, reply: FastifyReply) => {
    const oci = error instanceof OciError ? error : (storageError(error) ?? fromFrameworkError(error))
    if (oci.errorName === 'INTERNAL') app.log.error(error)
    if (oci.errorName === 'STORE_FULL' || oci.errorName === 'STORE_BUSY') options.onStorageFailure?.(oci.errorName, error)
    recordRefusal(options.store.events, request, oci)
    reply.status(oci.status).headers(oci.headers).type('application/json').send(oci.toBody())
  })
  app.setNotFoundHandler((request) => {
    throw new OciError('ROUTE_UNKNOWN', `${request.method} ${request.url}`)
  })

  await app.register(registryContext, options)
  // the same object the server mutates when settings change: the policy reads it per request
  const access: AccessOptions = options.access ?? { writes: 'open', tls: Boolean(options.https) }
  access.throttle ??= new LoginThrottle()
  await app.register(accessPolicy, access)
  if (access.tokenSigner) await app.register(tokenRoutes, access)
  await app.register(baseRoutes)
  await app.register(healthRoutes, { readiness: options.readiness })
  await app.register(blobRoutes)
  await app.register(uploadRoutes)
  await app.register(manifestRoutes)
  await app.register(tagRoutes)
  await app.register(catalogRoutes)
  await app.register(referrerRoutes)
  return app
}

const NO_NAMES: ReadonlySet<string> = new Set()
const READS = new Set(['GET', 'HEAD'])
const PROBES = new Set(['/livez', '/readyz'])

/** A flood is one Activity entry per address every 10 s, not one per refused request. */
function onceEvery10s(store: Store, detail: (address: string) => string) {
  const lastSaid = new Map<string, number>()
  return (address: string) => {
    const now = Date.now()
    if (now - (lastSaid.get(address) ?? 0) < 10_000) return
    if (lastSaid.size > 1000) lastSaid.clear()
    lastSaid.set(address, now)
    store.events.record({ kind: 'auth', detail: detail(address) })
  }
}

/** A flood is one Activity entry per address every 10 s, not one per refused connection. */
function tooManyConnectionsReporter(store: Store) {
  const lastSaid = new Map<string, number>()
  return (address: string, open: number) => {
    const now = Date.now()
    if (now - (lastSaid.get(address) ?? 0) < 10_000) return
    if (lastSaid.size > 1000) lastSaid.clear()
    lastSaid.set(address, now)
    store.events.record({ kind: 'auth', detail: `too-many-connections: ${address} already had ${open} open; further connections were refused` })
  }
}

/**
 * Container clients name the registry by a name it knows and never send Origin; a web page in a
 * browser does both otherwise. Refused with DENIED, and shown in Activity.
 */
function refuseWebPages(request: FastifyRequest, names: ReadonlySet<string>): void {
  const host = request.headers.host
  if (host !== undefined && !answersTo(hostOnly(host), names)) {
    throw new OciError('FOREIGN_HOST', `the Host header ${JSON.stringify(host.slice(0, 200))} does not name this registry`).because('foreign-host')
  }
  const origin = request.headers.origin
  let sameOrigin = false
  try {
    sameOrigin = origin !== undefined && new URL(origin).host === host
  } catch {
    sameOrigin = false
  }
  if ((origin !== undefined && !sameOrigin) || request.headers['sec-fetch-site'] === 'cross-site') {
    throw new OciError('CROSS_SITE', `a web page (${String(origin ?? 'cross-site').slice(0, 200)}) sent this request`).because('cross-site')
  }
}

/** The host of a Host header: without the port, IPv6 without brackets, lower case. */
function hostOnly(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header)
  if (bracketed) return bracketed[1].toLowerCase()
  return header.replace(/:\d+$/, '').toLowerCase()
}

function answersTo(host: string, names: ReadonlySet<string>): boolean {
  return isLoopbackHost(host) || host.endsWith('.localhost') || names.has(host) || (isIP(host) === 6 && names.has(canonicalName(host)))
}

/** A write the disk or the database could not take: 507, or 503 with Retry-After. */
function storageError(error: unknown): OciError | undefined {
  if (isDiskFullError(error)) return new OciError('STORE_FULL', (error as Error).message)
  if (isBusyError(error)) return new OciError('STORE_BUSY', 'another process holds the database lock').withHeaders({ 'Retry-After': '2' })
  return undefined
}

function fromFrameworkError(error: FastifyError): OciError {
  if (error.statusCode === 405) return new OciError('METHOD_UNKNOWN', error.message)
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return new OciError('BAD_REQUEST', error.message)
  return new OciError('INTERNAL', error.message)
}
