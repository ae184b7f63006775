// berth fsck: verifies the store; asks the running server when there is one.
import { resolveDataDir } from '../config'
import type { FsckReport } from '../store/fsck'
import { operate } from './operate'
import { formatBytes, out, parseFlags, type Command } from './usage'

export const fsckCommand: Command = {
  name: 'fsck',
  summary: 'verify blobs, metadata and upload sessions',
  help: `usage: berth fsck [--data-dir DIR] [--json] [--repair]

Verifies every blob's digest and size, that every row has its file and every file
its row, manifest bytes and references, and upload sessions. When a server runs on
the data dir, it is asked to check (online).

  --repair   remove what nothing references (orphan files, dead sessions)
  --json     print the report as JSON

Exit status: 0 clean, 1 problems found (listed), 2 usage or data dir errors.`,

  async run(argv) {
    const { values } = parseFlags(argv, {
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      repair: { type: 'boolean' },
    })
    if (values.help) return out(this.help), 0
    const dataDir = resolveDataDir(values['data-dir'])
    const report = await runFsck(dataDir, Boolean(values.repair))
    if (values.json) out(JSON.stringify(report, null, 2))
    else printReport(dataDir, report)
    return report.clean ? 0 : 1
  },
}

function runFsck(dataDir: string, repair: boolean): Promise<FsckReport> {
  return operate(dataDir, 'fsck', { repair })
}

function printReport(dataDir: string, report: FsckReport): void {
  const c = report.checked
  out(`berth: fsck ${dataDir}: ${c.blobs} blobs (${formatBytes(c.bytes)}), ${c.manifests} manifests, ${c.tags} tags, ${c.uploads} upload sessions`)
  for (const p of report.repaired) out(`repaired: ${p.kind} ${p.subject}: ${p.detail}`)
  for (const p of report.problems) out(`problem: ${p.kind} ${p.subject}: ${p.detail}${p.repairable ? ' (--repair removes it)' : ''}`)
  if (report.clean) out('berth: fsck clean')
  else {
    const repairable = report.problems.filter((p) => p.repairable).length
    out(`berth: fsck found ${report.problems.length} problem(s), ${repairable} repairable with --repair`)
  }
}
