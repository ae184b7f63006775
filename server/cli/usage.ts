// Shared CLI plumbing: usage errors (exit 2), flag parsing with --help, and output helpers.
import { parseArgs, type ParseArgsConfig } from 'node:util'

export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>

export interface Command {
  name: string
  summary: string
  help: string
  run(argv: string[]): Promise<number>
}

/** parseArgs with our conventions: --help on every command, unknown flags are usage errors. */
export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

export function out(line: string): void {
  process.stdout.write(`${line}\n`)
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}
