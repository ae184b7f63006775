// createBerth(): the one entry to the core, called by the CLI and the Electron main process.
import type { FastifyInstance } from 'fastify'
import type { Server } from 'node:http'
import { randomBytes } from 'node:crypto'
import { networkInterfaces } from 'node:os'
import { canonicalName } from './tls/certificates'
import { isOperation, operations, type ListenerInfo } from './admin/operations'
import type { AccessOptions, AuthMode } from './auth/access'
import type { LoginThrottle } from './auth/throttle'
import { formatAuthority, isLoopbackHost, type ListenAddress } from './config'
import { DEFAULT_HTTP, DEFAULT_HTTPS, DEFAULT_MTLS, ListenError, type ListenerKind } from './listeners'
import { closeControl, listenControl } from './control'
import { parseGcSchedule, startGcSchedule } from './gc/schedule'
import { openCore, type Core } from './core'
import { buildRegistryApp } from './registry/app'
import { recordTlsFailures } from './registry/failures'
import {
  loadSettings,
  opensWritesToNetwork,
  resolveHttpsWrite,
  saveSettings,
  settingsPatch,
  SettingsError,
  validateSettings,
  type HttpsWriteChoice,
  type HttpsWritePolicy,
  type Settings,
} from './settings'
import { AccessLog, type LogFormat } from './registry/access-log'
import { loadOwnCertificate, OwnCertificateError } from './tls/own-certificate'
import { buildMetricsApp, Metrics } from './metrics'
import { WebhookDispatcher } from './webhooks/dispatcher'
import { parseRateLimit, RateLimiter } from './registry/rate-limit'
import { checkReadiness, DEFAULT_MIN_FREE_BYTES, type Readiness } from './health'
import type { FsckReport } from './store/fsck'
import { StoreLayout } from './store/layout'
import { prepareDataDir, type Store } from './store/store'

export interface BerthOptions {
  dataDir: string
  /** plain-HTTP registry, read-write, loopback only; null turns it off */
  http?: ListenAddress | null
  /** TLS registry: anonymous pull, writes per `httpsWrite`; null turns it off */
  https?: ListenAddress | null
  /** writes on the TLS listener; auto (the default): open on loopback, users elsewhere */
  httpsWrite?: HttpsWriteChoice
  /** how users sign in where they must: token (default; the registry token protocol) or basic */
  auth?: AuthMode
  /** slows down password guessing (a test may shorten its waits) */
  loginThrottle?: LoginThrottle
  /** TLS registry that requires a client certificate from Berth's client CA; null turns it off */
  mtls?: ListenAddress | null
  /** extra names and addresses for the server certificate */
  hostNames?: string[]
  /** registry-API deletes; the GUI and CLI delete regardless */
  deleteEnabled?: boolean
  /** off, daily, hourly, every:HOURS, after:DELETES (comma-separated) */
  gcSchedule?: string
  /** the GUI and admin API, loopback only; null (the default) turns it off */
  admin?: ListenAddress | null
  /** the admin API's token; random when absent */
  adminToken?: string
  /** the built GUI the admin listener serves (out/renderer) */
  rendererDir?: string
  /** what can restart Berth to apply listener changes (the desktop app can restart itself) */
  restart?: () => void
  /**
   * Prometheus metrics: collected and served on the admin listener (the default), also on a
   * loopback port of their own (an address), or not collected at all ('off')
   */
  metrics?: ListenAddress | 'off'
  /** an access log on stdout, one line per request; none when absent */
  logFormat?: LogFormat
  /** the user's own server certificate and key (PEM files) instead of one from Berth's CA */
  ownCertificate?: { certPath: string; keyPath: string }
  /** requests per second per client address: auto (the default: other machines only), off, or R,W */
  rateLimit?: string
  /** below this much free disk /readyz and `berth status` say not ready (default 512 MiB) */
  minFreeBytes?: number
  /** where the server reports what it does by itself (scheduled GC) */
  log?: (line: string) => void
}

export interface SettingsInForce extends Settings {
  restartNeeded: boolean
  /** who may write on the running TLS listener (null when it is off) */
  httpsWriteInForce: HttpsWritePolicy | null
}

export interface RunningListener extends ListenerInfo {
  kind: ListenerKind
}

export interface Berth {
  readonly dataDir: string
  readonly core: Core
  readonly store: Store
  readonly listeners: RunningListener[]
  /** the Prometheus series, unless metrics are off */
  readonly metrics: Metrics | undefined
  /** the token every admin API request must carry */
  readonly adminToken: string
  /** the URL that opens the GUI (with the token), when the admin listener runs */
  readonly guiUrl: string | undefined
  /** the settings in force, plus saved listener changes waiting for a restart */
  settings(): SettingsInForce
  /**
   * Validates, saves and applies settings: all at once except listener addresses (on restart).
   * Only the keys in `patch` are saved as the user's choices. Open writes on a TLS address other
   * machines reach need `confirmOpenWrites`.
   */
  updateSettings(patch: Partial<Settings>, confirm?: { confirmOpenWrites?: boolean }): Promise<SettingsInForce>
  /** present when the shell can restart Berth */
  readonly restart?: () => void
  fsck(options?: { repair?: boolean }): Promise<FsckReport>
  /** the store, every listener and the disk, as /readyz reports them */
  readiness(): Promise<Readiness>
  /** Stops accepting requests, lets in-flight ones finish (parking uploads after a grace period), closes the store. */
  close(): Promise<void>
}

/** How long close() waits for in-flight requests before cutting them (an upload stays resumable). */
const CLOSE_GRACE_MS = 5000
/** How often the server certificate is checked for renewal while running. */
const RENEWAL_CHECK_MS = 12 * 60 * 60 * 1000

/**
 * TLS 1.2 only with ECDHE key exchange and AEAD ciphers (forward secrecy, no CBC, no RSA key
 * transport), TLS 1.3 with the suites Node offers. Every client Berth serves (Go's, curl,
 * browsers) speaks these.
 */
export const TLS_POLICY = {
  minVersion: 'TLSv1.2' as const,
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
}

export async function createBerth(options: BerthOptions): Promise<Berth> {
  const layout = new StoreLayout(options.dataDir)
  const http = options.http === undefined ? DEFAULT_HTTP : options.http
  const https = options.https === undefined ? DEFAULT_HTTPS : options.https
  const mtls = options.mtls === undefined ? DEFAULT_MTLS : options.mtls
  if (http && !isLoopbackHost(http.host)) {
    throw new ListenError(`plain HTTP serves loopback only; ${http.host} is not a loopback address (use --https for other hosts)`)
  }
  const hostNames = [...(options.hostNames ?? [])]
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  for (const address of [https, mtls]) {
    if (address && !isLoopbackHost(address.host) && !['0.0.0.0', '::'].includes(address.host)) hostNames.push(address.host)
  }

  const schedule = parseGcSchedule(options.gcSchedule ?? 'off')
  await prepareDataDir(layout, log)
  const listeners: RunningListener[] = []
  const adminToken = options.adminToken ?? randomBytes(24).toString('base64url')
  const addressText = (a: ListenAddress | null) => (a ? formatAuthority(a.host, a.port) : 'off')
  let httpsAccess: AccessOptions | undefined
  const policy = { deleteEnabled: options.deleteEnabled ?? true }
  let core: Core | undefined
  /** every registry and admin listener's app, for readiness */
  const serving: { name: string; app: FastifyInstance }[] = []
  const accessLog = options.logFormat ? new AccessLog(options.logFormat) : undefined
  let rateLimit = parseRateLimit(options.rateLimit ?? 'auto')
  const rateLimiter = new RateLimiter(() => rateLimit)
  let metrics: Metrics | undefined
  let dispatcher: WebhookDispatcher | undefined
  const logAs = (listener: string) => ({ listener, accessLog, metrics })
  const readiness = (): Promise<Readiness> => {
    if (!core) return Promise.reject(new Error('the server is still starting'))
    return checkReadiness({ store: core.store, dataDir: options.dataDir, minFreeBytes: options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES, listeners: () => serving })
  }
  const control = await listenControl(layout, async (path, body) => {
    if (!core) throw new Error('the server is still starting')
    const name = path.replace(/^\/(op\/)?/, '')
    if (!isOperation(name)) throw new Error(`unknown control request ${path}`)
    return operations[name]({ core, listeners, readiness, dispatcher }, body as never)
  })
  const apps: FastifyInstance[] = []
  /** TLS apps and how to rebuild their context, for renewal */
  const secured: { app: FastifyInstance; context: () => object }[] = []
  /** gives every TLS listener the current server certificate (after a renewal or a new name) */
  const reloadTlsContexts = () => {
    for (const { app, context } of secured) (app.server as unknown as TLSServer).setSecureContext(context())
  }
  let renewal: NodeJS.Timeout | undefined
  let stopSchedule = () => {}
  try {
    core = await openCore(options.dataDir, { hostNames })
    const { store, users } = core
    store.events.onWriteFailure = (error) => log(`berth: activity not recorded: ${error.message}`)
    const onStorageFailure = reportStorageFailures(store, log)
    if (options.metrics !== 'off') metrics = new Metrics(store)
    const pki = await core.pki()
    try {
      pki.useOwnCertificate(options.ownCertificate ? loadOwnCertificate(options.ownCertificate.certPath, options.ownCertificate.keyPath) : null)
    } catch (error) {
      if (error instanceof OwnCertificateError) throw new ListenError(`--tls-cert: ${error.message}`)
      throw error
    }
    if (pki.ownCertificate) {
      const names = new Set(pki.serverInfo().names)
      for (const address of [https, mtls]) {
        if (!address || ['0.0.0.0', '::'].includes(address.host) || names.has(canonicalName(address.host))) continue
        if (isLoopbackHost(address.host) && names.has('localhost')) continue
        log(`berth: warning: your certificate does not name ${address.host}; clients that connect by that name will refuse it`)
      }
    }
    const namesOf = (address: ListenAddress) => knownHostNames(() => pki.serverInfo().names, () => pki.server, hostNames, address)
    // pki.server is read each time: the user's own certificate, or a renewed one of Berth's
    const tls = (extra: object = {}) => ({ key: pki.server.keyPem, cert: pki.server.certPem, ...TLS_POLICY, ...extra })
    // A missing or foreign certificate fails the handshake (a missing one with the TLS 1.3 alert
    // certificate_required). A revoked one is let through the handshake and refused by the access
    // policy with 403 and words, which clients print, where a cut connection would read "EOF".
    const mtlsExtra = () => ({ ca: pki.clientCa.certPem, requestCert: true, rejectUnauthorized: true })

    if (http) {
      const app = await buildRegistryApp({ store, policy, onStorageFailure, readiness, rateLimiter, hostNames: namesOf(http), ...logAs('http') })
      apps.push(app)
      listeners.push(await listen(app, 'http', http, serving))
    }
    if (https) {
      const writes = resolveHttpsWrite(options.httpsWrite ?? 'auto', https.host)
      // one object the access policy reads on every request, so a settings change applies at once
      httpsAccess = { writes, auth: options.auth ?? 'token', tls: true, users, rules: core.rules, robots: core.robots, tokenSigner: core.tokenSigner, throttle: options.loginThrottle }
      const app = await buildRegistryApp({ store, policy, https: tls(), access: httpsAccess, onStorageFailure, readiness, rateLimiter, hostNames: namesOf(https), ...logAs('https') })
      apps.push(app)
      secured.push({ app, context: () => tls() })
      const running = await listen(app, 'https', https, serving)
      recordTlsFailures(app, store.events, { mtls: false, address: () => running.url })
      listeners.push(running)
    }
    if (mtls) {
      const app = await buildRegistryApp({
        store,
        policy,
        https: tls(mtlsExtra()),
        access: { writes: 'client-certificate', tls: true, pki, rules: core.rules, robots: core.robots },
        onStorageFailure,
        readiness,
        rateLimiter,
        hostNames: namesOf(mtls),
        ...logAs('mtls'),
      })
      apps.push(app)
      secured.push({ app, context: () => tls(mtlsExtra()) })
      const running = await listen(app, 'mtls', mtls, serving)
      recordTlsFailures(app, store.events, { mtls: true, address: () => running.url })
      listeners.push(running)
    }

    if (metrics && typeof options.metrics === 'object') {
      if (!isLoopbackHost(options.metrics.host)) throw new ListenError(`the metrics listener serves loopback only; ${options.metrics.host} is not a loopback address`)
      const app = await buildMetricsApp(metrics)
      apps.push(app)
      listeners.push(await listen(app, 'metrics', options.metrics, serving))
    }

    dispatcher = new WebhookDispatcher(store.webhooks, metrics, log)
    dispatcher.start()
    stopSchedule = startGcSchedule(store, core.gc, schedule, log)
    renewal = setInterval(async () => {
      if (await pki.ensureServerNames(pki.serverInfo().names).catch(() => false)) reloadTlsContexts()
    }, RENEWAL_CHECK_MS).unref()
  } catch (error) {
    clearInterval(renewal)
    stopSchedule()
    await dispatcher?.stop()
    await Promise.all(apps.map((app) => app.close()))
    core?.close()
    await closeControl(control, layout)
    throw error
  }

  const opened = core
  const started: Settings = {
    http: addressText(http),
    https: addressText(https),
    mtls: addressText(mtls),
    httpsWrite: options.httpsWrite ?? 'auto',
    auth: options.auth ?? 'token',
    deleteEnabled: policy.deleteEnabled,
    gcSchedule: options.gcSchedule ?? 'off',
    hostNames: options.hostNames ?? [],
    rateLimit: options.rateLimit ?? 'auto',
  }
  let current = started
  const listenersChanged = () => (['http', 'https', 'mtls'] as const).some((key) => current[key] !== started[key])
  let guiUrl: string | undefined
  const berth: Berth = {
    dataDir: options.dataDir,
    core: opened,
    store: opened.store,
    listeners,
    metrics,
    adminToken,
    get guiUrl() {
      return guiUrl
    },
    restart: options.restart,
    settings: () => ({
      ...current,
      restartNeeded: listenersChanged(),
      httpsWriteInForce: httpsAccess ? (httpsAccess.writes as HttpsWritePolicy) : null,
    }),
    async updateSettings(untrusted, confirm = {}) {
      const patch = settingsPatch(untrusted as Record<string, unknown>)
      const next = validateSettings({ ...current, ...patch })
      const saved = loadSettings(options.dataDir)
      // open writes where other machines reach the listener: only with a fresh, explicit confirmation
      const choosesWrites = patch.httpsWrite !== undefined || patch.https !== undefined
      const exposed = choosesWrites ? [started.https, next.https].filter((address) => opensWritesToNetwork(next.httpsWrite, address)) : []
      const confirmed = confirm.confirmOpenWrites || exposed.every((address) => saved.openWritesConfirmedFor === address)
      if (exposed.length > 0 && !confirmed) {
        throw new SettingsError(
          `open writes on ${exposed.join(' and ')} let anyone on your network push and delete images; confirm to save this choice`,
        )
      }
      const pki = await opened.pki()
      // a name the CA may not certify is refused before anything is saved
      if (await pki.ensureServerNames(next.hostNames)) reloadTlsContexts()
      policy.deleteEnabled = next.deleteEnabled
      rateLimit = parseRateLimit(next.rateLimit)
      if (httpsAccess && https) {
        httpsAccess.writes = resolveHttpsWrite(next.httpsWrite, https.host)
        httpsAccess.auth = next.auth
      }
      if (next.gcSchedule !== current.gcSchedule) {
        stopSchedule()
        stopSchedule = startGcSchedule(opened.store, opened.gc, parseGcSchedule(next.gcSchedule), log)
      }
      const { openWritesConfirmedFor: _previous, ...choices } = saved
      saveSettings(options.dataDir, {
        ...choices,
        ...patch,
        ...(exposed.length > 0 ? { httpsWrite: next.httpsWrite, openWritesConfirmedFor: next.https } : {}),
      })
      current = next
      return berth.settings()
    },
    fsck: (fsckOptions) => opened.store.fsck(fsckOptions),
    readiness,
    async close() {
      clearInterval(renewal)
      stopSchedule()
      await Promise.all(apps.map((app) => closeGracefully(app)))
      await dispatcher?.stop()
      accessLog?.flush()
      opened.close()
      await closeControl(control, layout)
    },
  }

  if (options.admin) {
    if (!isLoopbackHost(options.admin.host)) {
      await berth.close()
      throw new ListenError(`the admin listener serves loopback only; ${options.admin.host} is not a loopback address`)
    }
    // loaded only when there is an admin listener (the desktop app serves the GUI over IPC)
    const { buildAdminApp } = await import('./admin/server')
    const app = await buildAdminApp({ berth, token: adminToken, rendererDir: options.rendererDir })
    apps.push(app)
    try {
      const running = await listen(app, 'admin', options.admin, serving)
      listeners.push(running)
      guiUrl = `${running.url}/?token=${adminToken}`
    } catch (error) {
      await berth.close()
      throw error
    }
  }
  return berth
}

/**
 * The names a listener answers to: the server certificate's names and --host names, the bound
 * address, and on a wildcard address this machine's own addresses. Recomputed when the
 * certificate changes (a renewal, a new name), not per request.
 */
function knownHostNames(certificateNames: () => string[], certificate: () => object, hostNames: string[], address: ListenAddress) {
  let madeFor: object | undefined
  let names: ReadonlySet<string> = new Set()
  return () => {
    if (madeFor !== certificate()) {
      madeFor = certificate()
      const wildcard = address.host === '0.0.0.0' || address.host === '::'
      const own = wildcard ? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)) : []
      names = new Set([...certificateNames(), ...hostNames, address.host, 'host.docker.internal', ...own].map(canonicalName))
    }
    return names
  }
}

/** A full disk or a busy database: said once a minute in the log and in Activity, not per request. */
function reportStorageFailures(store: Store, log: (line: string) => void) {
  const lastSaid = new Map<string, number>()
  return (kind: 'STORE_FULL' | 'STORE_BUSY', error: unknown) => {
    const now = Date.now()
    if (now - (lastSaid.get(kind) ?? 0) < 60_000) return
    lastSaid.set(kind, now)
    const what = kind === 'STORE_FULL' ? 'disk-full' : 'database-busy'
    const message = (error as Error).message
    log(`berth: ${what}: writes are refused (${message})`)
    store.events.record({ kind: 'store', detail: `${what}: writes are refused (${message})` })
  }
}

interface TLSServer {
  setSecureContext(options: object): void
}

async function listen(app: FastifyInstance, kind: ListenerKind, address: ListenAddress, serving: { name: string; app: FastifyInstance }[]): Promise<RunningListener> {
  try {
    await app.listen({ host: address.host, port: address.port })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const where = formatAuthority(address.host, address.port)
    if (code === 'EADDRINUSE') throw new ListenError(`cannot listen on ${where}: the port is already in use`)
    if (code === 'EACCES') throw new ListenError(`cannot listen on ${where}: permission denied`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ListenError(`cannot listen on ${where}: no such local address`)
    throw error
  }
  const bound = app.server.address()
  const port = typeof bound === 'object' && bound ? bound.port : address.port
  const scheme = kind === 'https' || kind === 'mtls' ? 'https' : 'http'
  const url = `${scheme}://${formatAuthority(address.host, port)}`
  serving.push({ name: `${kind} ${url}`, app })
  return { kind, host: address.host, port, url }
}

async function closeGracefully(app: FastifyInstance): Promise<void> {
  const server = app.server as Server
  const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS)
  server.closeIdleConnections()
  try {
    await app.close()
  } finally {
    clearTimeout(cut)
  }
}
