// berth serve: runs the registry until SIGINT/SIGTERM.
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { DEFAULT_HTTP, DEFAULT_HTTPS, DEFAULT_MTLS, isRegistryListener } from '../listeners'
import { formatAuthority, isLoopbackHost, parseListenAddress, resolveDataDir } from '../config'
import { berthOptionsFrom, loadSettings, parseHttpsWrite, type Settings } from '../settings'
import { parseGcSchedule } from '../gc/schedule'
import { parseSize } from '../health'
import { parseRateLimit } from '../registry/rate-limit'
import { out, parseFlags, UsageError, type Command } from './usage'

const address = (a: { host: string; port: number }) => formatAuthority(a.host, a.port)

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the registry',
  help: `usage: berth serve [--data-dir DIR] [--http ADDR|off] [--https ADDR|off]
                   [--https-write open|users|off] [--auth token|basic] [--mtls ADDR|off] [--admin ADDR|off]
                   [--host NAME ...] [--delete on|off] [--gc-schedule SCHEDULE] [--min-free SIZE]
                   [--log-format text|json] [--rate-limit R,W|auto|off] [--metrics ADDR|off]
                   [--tls-cert FILE --tls-key FILE] [--open]

  --data-dir DIR        where blobs and metadata live (default: $BERTH_DATA_DIR, else
                        $XDG_DATA_HOME/berth or ~/.local/share/berth)
  --http ADDR|off       plain HTTP, read-write, no auth, loopback only   (default ${address(DEFAULT_HTTP)})
  --https ADDR|off      TLS, anonymous pull                              (default ${address(DEFAULT_HTTPS)})
  --https-write MODE    writes on the TLS listener: open (default on loopback), users (users
                        from \`berth user\`; default elsewhere; \`basic\` is an alias), off
                        (pull-only)
  --auth token|basic    how users sign in where they must (writes for users, or a pull-only
                        listener with private repositories): token (default; the registry
                        token protocol, which Docker Engine needs to pull anonymously) or basic
  --mtls ADDR|off       TLS + client certificate from \`berth cert client\`, read-write
                                                                         (default ${address(DEFAULT_MTLS)})
  --admin ADDR|off      the GUI and its admin API, loopback only (default 127.0.0.1:0: a
                        free port). Prints "berth: gui URL"; the URL carries the token.
  --host NAME           an extra name or IP for the server certificate (repeatable)
  --delete on|off       registry-API deletes (default on; GUI/CLI deletes always work)
  --min-free SIZE       below this much free disk, /readyz and \`berth status\` say not ready
                        (default 512M; K, M, G, T)
  --rate-limit R,W      requests per second per client address, reads and writes (token
                        buckets; over them 429 TOOMANYREQUESTS with Retry-After). auto
                        (default): 200,50 for clients on other machines, none on loopback; off
  --metrics ADDR|off    Prometheus metrics are served on the admin listener at /metrics (with
                        its token); ADDR also serves them on a loopback port of their own
                        without one; off collects none
  --tls-cert FILE       your own server certificate (PEM; leaf first, then its chain, ideally
  --tls-key FILE        ending with the CA) and its key, instead of one from Berth's CA; e.g.
                        from mkcert or a company CA. Never renewed by Berth; trust install
                        writes the last certificate of the file as the CA clients trust
  --log-format F        an access log on stdout, one line per request, as text or json:
                        time, listener, client, method, repository and reference, status,
                        bytes in and out, duration, identity (never a credential or token)
  --open                open the GUI in the default browser once ready (when there is a desktop)
  --gc-schedule S       off (default), daily, hourly, every:HOURS, after:DELETES, or both
                        comma-separated (e.g. daily,after:50)

ADDR is HOST:PORT ([IPv6]:PORT); port 0 picks a free port. Flags win over the settings saved
from the GUI (DATA_DIR/settings.json). Prints "berth: data DIR", one "berth: registry KIND
URL  WHO-MAY-WRITE" line per listener, "berth: gui URL" (open it in a browser: it sets a
cookie and redirects), then "berth: ready". SIGINT/SIGTERM finish in-flight requests, close
the database and exit 0.`,

  async run(argv) {
    const { values } = parseFlags(argv, {
      'data-dir': { type: 'string' },
      http: { type: 'string' },
      https: { type: 'string' },
      'https-write': { type: 'string' },
      auth: { type: 'string' },
      mtls: { type: 'string' },
      admin: { type: 'string' },
      host: { type: 'string', multiple: true },
      delete: { type: 'string' },
      'gc-schedule': { type: 'string' },
      'min-free': { type: 'string' },
      'log-format': { type: 'string' },
      'rate-limit': { type: 'string' },
      metrics: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      open: { type: 'boolean' },
    })
    if (values.help) return out(this.help), 0
    if (values.delete !== undefined && values.delete !== 'on' && values.delete !== 'off') {
      throw new UsageError(`--delete takes on or off, not ${JSON.stringify(values.delete)}`)
    }
    const httpsWrite = values['https-write'] === undefined ? undefined : parseHttpsWrite(values['https-write'])
    if (values['https-write'] !== undefined && (httpsWrite === undefined || httpsWrite === 'auto')) {
      throw new UsageError(`--https-write takes open, users or off, not ${JSON.stringify(values['https-write'])}`)
    }
    if (values.auth !== undefined && values.auth !== 'token' && values.auth !== 'basic') {
      throw new UsageError(`--auth takes token or basic, not ${JSON.stringify(values.auth)}`)
    }
    const admin = parseListenAddress(values.admin ?? '127.0.0.1:0')
    for (const flag of [values.http, values.https, values.mtls]) if (flag !== undefined) parseListenAddress(flag)

    try {
      parseGcSchedule(values['gc-schedule'] ?? 'off')
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    let minFreeBytes: number | undefined
    try {
      minFreeBytes = values['min-free'] === undefined ? undefined : parseSize(values['min-free'])
    } catch (error) {
      throw new UsageError(`--min-free: ${(error as Error).message}`)
    }
    if (values['rate-limit'] !== undefined) {
      try {
        parseRateLimit(values['rate-limit'])
      } catch (error) {
        throw new UsageError(`--rate-limit: ${(error as Error).message}`)
      }
    }
    const metrics = values.metrics === undefined ? undefined : values.metrics === 'off' ? ('off' as const) : parseListenAddress(values.metrics)
    if (metrics === null) throw new UsageError('--metrics takes HOST:PORT or off')
    if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together')
    const ownCertificate = values['tls-cert'] && values['tls-key'] ? { certPath: resolve(values['tls-cert']), keyPath: resolve(values['tls-key']) } : undefined
    const logFormat = values['log-format']
    if (logFormat !== undefined && logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format takes text or json, not ${JSON.stringify(logFormat)}`)
    const dataDir = resolveDataDir(values['data-dir'])
    const flags: Partial<Settings> = {
      http: values.http,
      https: values.https,
      mtls: values.mtls,
      httpsWrite,
      auth: values.auth as Settings['auth'] | undefined,
      deleteEnabled: values.delete === undefined ? undefined : values.delete === 'on',
      gcSchedule: values['gc-schedule'],
      hostNames: values.host,
      rateLimit: values['rate-limit'],
    }
    // Signals are caught from here on: a stop during start-up or right after "ready" still
    // closes the store cleanly and exits 0.
    const stopRequested = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    const { notices, ...options } = berthOptionsFrom(flags, loadSettings(dataDir))
    // loaded here: the other commands do without Fastify and the registry
    const { createBerth } = await import('../berth')
    const berth = await createBerth({ dataDir, admin, minFreeBytes, logFormat, metrics, ownCertificate, ...options })
    for (const notice of notices) process.stderr.write(`berth: ${notice}\n`)
    out(`berth: data ${dataDir}`)
    for (const listener of berth.listeners) {
      if (listener.kind === 'metrics') out(`berth: metrics ${listener.url}/metrics`)
      if (!isRegistryListener(listener)) continue
      out(`berth: registry ${listener.kind.padEnd(5)} ${listener.url}  ${whoMayWrite(listener.kind, berth.settings().httpsWriteInForce)}`)
      if (listener.kind === 'https' && berth.settings().httpsWriteInForce === 'open' && !isLoopbackHost(listener.host)) {
        process.stderr.write(`berth: warning: anyone who can reach ${listener.url} may push and delete images (writes are open)\n`)
      }
    }
    if (berth.guiUrl) out(`berth: gui ${berth.guiUrl}`)
    out('berth: ready')
    if (values.open && berth.guiUrl) openInBrowser(berth.guiUrl)

    await stopRequested
    await berth.close()
    return 0
  },
}

/** Who may write on a listener, as the start-up line says it. */
function whoMayWrite(kind: string, httpsWrite: string | null): string {
  if (kind === 'mtls') return 'clients with a certificate'
  if (kind === 'http') return 'open'
  return httpsWrite === 'off' ? 'pull-only' : httpsWrite === 'users' ? 'users (anonymous pull)' : 'open'
}

/** Opens the GUI where a desktop session can show it; elsewhere the printed URL is the way in. */
function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true })
  child.on('error', () => {})
  child.unref()
}
