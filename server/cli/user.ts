// berth user add|remove|list
import { readFile, writeFile } from 'node:fs/promises'
import { resolveDataDir } from '../config'
import { operate } from './operate'
import { out, parseFlags, UsageError, type Command } from './usage'

export const userCommand: Command = {
  name: 'user',
  summary: 'users who sign in on the TLS listener (docker login, podman login)',
  help: `usage:
  berth user add NAME [--password-stdin]   bcrypt, as htpasswd -B would (prompts unless --password-stdin)
  berth user remove NAME
  berth user list
  berth user import FILE                   users from an htpasswd file (bcrypt only; - for stdin)
  berth user export [FILE]                 every user as htpasswd lines (stdout without FILE)

All take --data-dir DIR. A running server sees changes at once.`,

  async run(argv) {
    const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, 'password-stdin': { type: 'boolean' } }, true)
    const [action, name] = positionals
    if (values.help || action === undefined) {
      out(this.help)
      return action === undefined && !values.help ? 2 : 0
    }
    const dataDir = resolveDataDir(values['data-dir'])
    switch (action) {
      case 'add': {
        if (!name) throw new UsageError('berth user add NAME: the name is missing')
        const password = values['password-stdin'] ? await readStdin() : await prompt(`password for ${name}: `)
        if (!password) throw new UsageError('the password is empty')
        await operate(dataDir, 'user.add', { name, password })
        out(`berth: user ${name} can now log in (docker login / podman login)`)
        return 0
      }
      case 'remove': {
        if (!name) throw new UsageError('berth user remove NAME: the name is missing')
        const { removed } = await operate(dataDir, 'user.remove', { name })
        if (!removed) {
          process.stderr.write(`berth user: no user ${name}\n`)
          return 1
        }
        out(`berth: removed user ${name}`)
        return 0
      }
      case 'list': {
        for (const user of await operate(dataDir, 'user.list', {})) out(user.name)
        return 0
      }
      case 'import': {
        if (!name) throw new UsageError('berth user import FILE (- for stdin)')
        const htpasswd = name === '-' ? await readStdin() : await readFile(name, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read ${name}: ${error.code ?? error.message}`)
        })
        const { imported } = await operate(dataDir, 'user.import', { htpasswd })
        out(`berth: imported ${imported.length} user${imported.length === 1 ? '' : 's'}${imported.length ? `: ${imported.join(', ')}` : ''}`)
        return 0
      }
      case 'export': {
        const { htpasswd } = await operate(dataDir, 'user.export', {})
        if (name) await writeFile(name, htpasswd, { mode: 0o600 })
        else process.stdout.write(htpasswd)
        return 0
      }
      default:
        throw new UsageError(`unknown user action ${JSON.stringify(action)} (add, remove, list, import, export)`)
    }
  },
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}

async function prompt(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('no terminal to ask for the password: use --password-stdin')
  const { createInterface } = await import('node:readline/promises')
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true })
  try {
    return await rl.question(question)
  } finally {
    rl.close()
  }
}
