// The headless CLI: `berth <command>`. See CLI.md for the contract.
import { AddressError } from './config'
import { SettingsError } from './settings'
import { DataDirBusyError, RemoteError } from './control'
import { ListenError } from './listeners'
import { UserError } from './auth/users'
import { certCommand } from './cli/cert'
import { fsckCommand } from './cli/fsck'
import { deleteCommand, deletionsCommand, gcCommand, undoCommand } from './cli/gc'
import { retentionCommand } from './cli/retention'
import { statusCommand } from './cli/status'
import { webhookCommand } from './cli/webhook'
import { WebhookError } from './webhooks/webhooks'
import { RetentionError } from './gc/retention'
import { serveCommand } from './cli/serve'
import { trustCommand } from './cli/trust'
import { userCommand } from './cli/user'
import { accessCommand, groupCommand, tokenCommand } from './cli/access'
import { AccessError } from './auth/rules'
import { NameNotPermittedError } from './tls/pki'
import { TrustError } from './trust/system-store'
import { UsageError, type Command } from './cli/usage'
import { DeleteError, UndoError } from './store/deletions'
import { DataDirError } from './store/store'
import { GcBusyError } from './gc/collector'

const commands: Command[] = [serveCommand, statusCommand, fsckCommand, gcCommand, retentionCommand, webhookCommand, deleteCommand, undoCommand, deletionsCommand, certCommand, trustCommand, userCommand, groupCommand, accessCommand, tokenCommand]

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`)
  return `usage: berth <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nberth <command> --help for a command's options.`
}

/** Errors that are the user's to fix: one line on stderr, exit 2. */
const USER_ERRORS = [UsageError, AddressError, SettingsError, DataDirError, DataDirBusyError, ListenError, UserError, NameNotPermittedError, RemoteError, TrustError, DeleteError, UndoError, GcBusyError, AccessError, RetentionError, WebhookError]

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`)
    return name === undefined ? 2 : 0
  }
  const command = commands.find((c) => c.name === name)
  if (!command) {
    process.stderr.write(`berth: unknown command ${JSON.stringify(name)}\n${usage()}\n`)
    return 2
  }
  try {
    return await command.run(rest)
  } catch (error) {
    if (USER_ERRORS.some((type) => error instanceof type)) {
      process.stderr.write(`berth ${name}: ${(error as Error).message}\n`)
      return 2
    }
    throw error
  }
}

// A reader that goes away (`berth deletions | head -1`) is not an error: the command finishes
// its work quietly, with nothing more printed, instead of dying halfway on an EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
}

process.exitCode = await main(process.argv.slice(2))
