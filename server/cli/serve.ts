// berth serve: runs the registry until SIGINT/SIGTERM.
import { createBerth, DEFAULT_HTTP } from '../berth'
import { parseListenAddress, resolveDataDir } from '../config'
import { out, parseFlags, UsageError, type Command } from './usage'

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the registry',
  help: `usage: berth serve [--data-dir DIR] [--http ADDR|off] [--delete on|off]

  --data-dir DIR     where blobs and metadata live (default: $BERTH_DATA_DIR, else
                     $XDG_DATA_HOME/berth or ~/.local/share/berth)
  --http ADDR|off    plain-HTTP registry, read-write, no auth, loopback only
                     (default ${DEFAULT_HTTP.host}:${DEFAULT_HTTP.port}); port 0 picks a free port
  --delete on|off    registry-API deletes (default on; GUI/CLI deletes always work)

Prints one "berth: registry ..." line per listener, then "berth: ready".
SIGINT/SIGTERM finish in-flight requests, close the database and exit 0.`,

  async run(argv) {
    const { values } = parseFlags(argv, {
      'data-dir': { type: 'string' },
      http: { type: 'string' },
      delete: { type: 'string' },
    })
    if (values.help) return out(this.help), 0
    if (values.delete !== undefined && values.delete !== 'on' && values.delete !== 'off') {
      throw new UsageError(`--delete takes on or off, not ${JSON.stringify(values.delete)}`)
    }
    const http = values.http === undefined ? DEFAULT_HTTP : parseListenAddress(values.http)
    const berth = await createBerth({
      dataDir: resolveDataDir(values['data-dir']),
      http,
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
