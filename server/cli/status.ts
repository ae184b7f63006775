// berth status: whether a server runs on the data dir and is ready (the store answers, every
// listener is up, the disk has room above the floor). Exit 0 ready, 1 not ready or not running.
import { askServer } from '../control'
import { resolveDataDir } from '../config'
import type { Readiness } from '../health'
import { StoreLayout } from '../store/layout'
import { formatBytes, out, parseFlags, type Command } from './usage'

export const statusCommand: Command = {
  name: 'status',
  summary: 'whether a server runs on the data dir and is ready',
  help: `usage: berth status [--data-dir DIR] [--json]

Asks the server running on the data dir (over its control socket) what /readyz reports: the
store answers, every listener is up, and the data dir's disk has more free space than the floor
(\`berth serve --min-free\`, default 512M). Exit 0 when ready, 1 when not ready or not running.
--json prints {"running":BOOL,"status":"ready"|"not ready","checks":{...}}.`,

  async run(argv) {
    const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } })
    if (values.help) return out(this.help), 0
    const dataDir = resolveDataDir(values['data-dir'])
    const readiness = await askServer<Readiness | null>(new StoreLayout(dataDir), '/op/health', {})
    if (!readiness) {
      if (values.json) out(JSON.stringify({ running: false, status: 'not running' }))
      else out(`berth: not running (no server on ${dataDir})`)
      return 1
    }
    if (values.json) {
      out(JSON.stringify({ running: true, ...readiness }))
    } else {
      const { store, listeners, disk } = readiness.checks
      out(`berth: ${readiness.status}`)
      out(`  store      ${store.ok ? 'ok' : `FAIL: ${store.detail}`}`)
      out(`  listeners  ${listeners.ok ? 'ok' : `FAIL: down ${listeners.down.join(', ')}`}${listeners.up.length ? ` (up: ${listeners.up.join(', ')})` : ''}`)
      out(`  disk       ${disk.ok ? 'ok' : 'FAIL'}: ${disk.free === null ? (disk.detail ?? 'unknown') : `${formatBytes(disk.free)} free`}, floor ${formatBytes(disk.floor)}`)
    }
    return readiness.status === 'ready' ? 0 : 1
  },
}
