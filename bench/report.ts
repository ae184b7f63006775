// Shared by the benchmarks: medians, and results written as Markdown and JSON under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
}

export interface Results {
  title: string
  columns: string[]
  rows: string[][]
  raw: unknown
}

/** Writes bench/results/NAME.md and NAME.json. */
export function writeResults(name: string, results: Results): void {
  mkdirSync(RESULTS, { recursive: true })
  const when = new Date().toISOString()
  const table = [
    `## ${results.title}`,
    '',
    `Machine: ${machine()}. Run: ${when}.`,
    '',
    `| ${results.columns.join(' | ')} |`,
    `|${results.columns.map(() => '---').join('|')}|`,
    ...results.rows.map((row) => `| ${row.join(' | ')} |`),
    '',
  ].join('\n')
  writeFileSync(join(RESULTS, `${name}.md`), table)
  writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify({ when, machine: machine(), ...results }, null, 2))
}
