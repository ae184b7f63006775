// berth serve: runs the registry until SIGINT/SIGTERM.
import { createBerth, DEFAULT_HTTP, DEFAULT_HTTPS, DEFAULT_MTLS } from '../berth'
import { formatAuthority, parseListenAddress, resolveDataDir } from '../config'
import { parseGcSchedule } from '../gc/schedule'
import { out, parseFlags, UsageError, type Command } from './usage'

const address = (a: { host: string; port: number }) => formatAuthority(a.host, a.port)

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the registry',
  help: `usage: berth serve [--data-dir DIR] [--http ADDR|off] [--https ADDR|off]
                   [--https-write open|basic|off] [--mtls ADDR|off] [--admin ADDR|off]
                   [--host NAME ...] [--delete on|off] [--gc-schedule SCHEDULE]

  --data-dir DIR        where blobs and metadata live (default: $BERTH_DATA_DIR, else
                        $XDG_DATA_HOME/berth or ~/.local/share/berth)
  --http ADDR|off       plain HTTP, read-write, no auth, loopback only   (default ${address(DEFAULT_HTTP)})
  --https ADDR|off      TLS, anonymous pull                              (default ${address(DEFAULT_HTTPS)})
  --https-write MODE    writes on the TLS listener: open (default on loopback), basic (users
                        from \`berth user\`; default elsewhere), off (pull-only)
  --mtls ADDR|off       TLS + client certificate from \`berth cert client\`, read-write
                                                                         (default ${address(DEFAULT_MTLS)})
  --admin ADDR|off      GUI and admin API (arrives with the desktop app)
  --host NAME           an extra name or IP for the server certificate (repeatable)
  --delete on|off       registry-API deletes (default on; GUI/CLI deletes always work)
  --gc-schedule S       off (default), daily, hourly, every:HOURS, after:DELETES, or both
                        comma-separated (e.g. daily,after:50)

ADDR is HOST:PORT ([IPv6]:PORT); port 0 picks a free port. Prints one "berth: registry ..."
line per listener, then "berth: ready". SIGINT/SIGTERM finish in-flight requests, close
the database and exit 0.`,

  async run(argv) {
    const { values } = parseFlags(argv, {
      'data-dir': { type: 'string' },
      http: { type: 'string' },
      https: { type: 'string' },
      'https-write': { type: 'string' },
      mtls: { type: 'string' },
      admin: { type: 'string' },
      host: { type: 'string', multiple: true },
      delete: { type: 'string' },
      'gc-schedule': { type: 'string' },
    })
    if (values.help) return out(this.help), 0
    if (values.delete !== undefined && values.delete !== 'on' && values.delete !== 'off') {
      throw new UsageError(`--delete takes on or off, not ${JSON.stringify(values.delete)}`)
    }
    const httpsWrite = values['https-write']
    if (httpsWrite !== undefined && !['open', 'basic', 'off'].includes(httpsWrite)) {
      throw new UsageError(`--https-write takes open, basic or off, not ${JSON.stringify(httpsWrite)}`)
    }
    if (values.admin !== undefined && values.admin !== 'off') parseListenAddress(values.admin)
    const listenFlag = (flag: string | undefined, fallback: { host: string; port: number }) =>
      flag === undefined ? fallback : parseListenAddress(flag)

    let gcSchedule
    try {
      gcSchedule = parseGcSchedule(values['gc-schedule'] ?? 'off')
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    const berth = await createBerth({
      gcSchedule,
      dataDir: resolveDataDir(values['data-dir']),
      http: listenFlag(values.http, DEFAULT_HTTP),
      https: listenFlag(values.https, DEFAULT_HTTPS),
      httpsWrite: httpsWrite as 'open' | 'basic' | 'off' | undefined,
      mtls: listenFlag(values.mtls, DEFAULT_MTLS),
      hostNames: values.host ?? [],
      deleteEnabled: values.delete !== 'off',
    })
    for (const listener of berth.listeners) {
      out(`berth: registry ${listener.kind.padEnd(5)} ${listener.url}`)
    }
    out('berth: ready')

    await new Promise<void>((resolve) => {
      const stop = () => resolve()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    await berth.close()
    return 0
  },
}
