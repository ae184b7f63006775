// berth group, berth access, berth token: who may pull, push and delete which repositories.
import { resolveDataDir } from '../config'
import { operate } from './operate'
import { out, parseFlags, UsageError, type Command } from './usage'

const RULES_HELP = `Built in, unless a rule says otherwise: users/NAME/ is private to NAME (pull, push, delete);
everyone, anonymous included, may pull the rest (anonymous pull *); signed-in users, client
certificates and named tokens may push the rest (authenticated push *). Revoke a built-in rule
like any other. A running server applies every change at once.`

export const groupCommand: Command = {
  name: 'group',
  summary: 'groups of users, for access rules',
  help: `usage:
  berth group add TEAM [--member USER ...]
  berth group remove TEAM
  berth group list [--json]
  berth group member add|remove TEAM USER

All take --data-dir DIR. Grant a group access with berth access grant group:TEAM ...`,

  async run(argv) {
    const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, member: { type: 'string', multiple: true }, json: { type: 'boolean' } }, true)
    const [action, ...rest] = positionals
    if (values.help || action === undefined) return out(this.help), action === undefined && !values.help ? 2 : 0
    const dataDir = resolveDataDir(values['data-dir'])
    switch (action) {
      case 'add': {
        const [team] = rest
        if (!team) throw new UsageError('berth group add TEAM: the name is missing')
        await operate(dataDir, 'group.add', { name: team, members: values.member ?? [] })
        out(`berth: group ${team}${values.member?.length ? ` with ${values.member.join(', ')}` : ''}`)
        return 0
      }
      case 'remove': {
        const [team] = rest
        if (!team) throw new UsageError('berth group remove TEAM: the name is missing')
        if (!(await operate(dataDir, 'group.remove', { name: team })).removed) return process.stderr.write(`berth group: no group ${team}\n`), 1
        out(`berth: removed group ${team}`)
        return 0
      }
      case 'list': {
        const groups = await operate(dataDir, 'group.list', {})
        if (values.json) out(JSON.stringify(groups, null, 2))
        else for (const g of groups) out(`${g.name.padEnd(20)} ${g.members.join(', ') || '(no members)'}`)
        return 0
      }
      case 'member': {
        const [change, team, user] = rest
        if ((change !== 'add' && change !== 'remove') || !team || !user) throw new UsageError('berth group member add|remove TEAM USER')
        const { changed } = await operate(dataDir, 'group.member', { team, user, add: change === 'add' })
        if (!changed) return process.stderr.write(`berth group: ${user} is not in ${team}\n`), 1
        out(`berth: ${change === 'add' ? 'added' : 'removed'} ${user} ${change === 'add' ? 'to' : 'from'} ${team}`)
        return 0
      }
      default:
        throw new UsageError(`unknown group action ${JSON.stringify(action)} (add, remove, list, member)`)
    }
  },
}

export const accessCommand: Command = {
  name: 'access',
  summary: 'who may pull, push and delete which repositories',
  help: `usage:
  berth access grant WHO ACTIONS PREFIX
  berth access revoke WHO ACTIONS PREFIX
  berth access list [--json]
  berth access check WHO ACTION REPO     prints allow or deny and the rule that decided; exit 0 allow, 1 deny

WHO: user:NAME, group:NAME, token:NAME, cert:NAME, anonymous (everyone) or authenticated
(anyone signed in). ACTIONS: pull, push, delete, comma-separated. PREFIX: a repository prefix
such as apps/web/ (that folder) or apps/web (that repository and its folder), or * for every
repository outside users/.

${RULES_HELP}

The rules apply on the TLS listener when writes are for users (or pull-only) and on the mTLS
listener (to cert:NAME); the plain-HTTP listener and open TLS writes are for this machine only.`,

  async run(argv) {
    const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } }, true)
    const [action, ...rest] = positionals
    if (values.help || action === undefined) return out(this.help), action === undefined && !values.help ? 2 : 0
    const dataDir = resolveDataDir(values['data-dir'])
    switch (action) {
      case 'grant':
      case 'revoke': {
        const [who, actions, prefix] = rest
        if (!who || !actions || !prefix) throw new UsageError(`berth access ${action} WHO ACTIONS PREFIX`)
        if (action === 'grant') {
          await operate(dataDir, 'access.grant', { who, actions, prefix })
          out(`berth: ${who} may ${actions} ${prefix}`)
          return 0
        }
        const { removed } = await operate(dataDir, 'access.revoke', { who, actions, prefix })
        if (!removed) return process.stderr.write(`berth access: no such grant: ${who} ${actions} ${prefix}\n`), 1
        out(`berth: revoked ${who} ${actions} ${prefix}`)
        return 0
      }
      case 'list': {
        const grants = await operate(dataDir, 'access.list', {})
        if (values.json) out(JSON.stringify(grants, null, 2))
        else {
          for (const g of grants) out(`${g.who.padEnd(24)} ${g.action.padEnd(7)} ${g.prefix}`)
          out(`${'user:NAME'.padEnd(24)} ${'all'.padEnd(7)} users/NAME/  (built in: private to NAME)`)
        }
        return 0
      }
      case 'check': {
        const [who, what, repository] = rest
        if (!who || !what || !repository) throw new UsageError('berth access check WHO ACTION REPO')
        const decision = await operate(dataDir, 'access.check', { who, action: what, repository })
        out(`${decision.allow ? 'allow' : 'deny'}: ${decision.because}`)
        return decision.allow ? 0 : 1
      }
      default:
        throw new UsageError(`unknown access action ${JSON.stringify(action)} (grant, revoke, list, check)`)
    }
  },
}

export const tokenCommand: Command = {
  name: 'token',
  summary: 'named, revocable tokens for CI jobs (robots)',
  help: `usage:
  berth token create NAME --scope PREFIX:ACTIONS [--scope ...] [--expires DURATION]   prints the token once
  berth token list [--json]
  berth token revoke NAME

A token may do what its scopes say (e.g. --scope apps/web/:pull,push) and pull what anyone
may. Use it as a password with any user name (docker login -u ci -p TOKEN, podman login) or
as a Bearer token. DURATION: 30d, 12h, 90m. Only a hash of the token is kept.`,

  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { 'data-dir': { type: 'string' }, scope: { type: 'string', multiple: true }, expires: { type: 'string' }, json: { type: 'boolean' } },
      true,
    )
    const [action, name] = positionals
    if (values.help || action === undefined) return out(this.help), action === undefined && !values.help ? 2 : 0
    const dataDir = resolveDataDir(values['data-dir'])
    switch (action) {
      case 'create': {
        if (!name) throw new UsageError('berth token create NAME --scope PREFIX:ACTIONS')
        const expiresAt = values.expires === undefined ? null : Date.now() + parseDuration(values.expires)
        const { token } = await operate(dataDir, 'token.create', { name, scopes: values.scope ?? [], expiresAt })
        out(token)
        process.stderr.write(`berth: token ${name} created; it is shown only this once\n`)
        return 0
      }
      case 'list': {
        const tokens = await operate(dataDir, 'token.list', {})
        if (values.json) out(JSON.stringify(tokens, null, 2))
        else
          for (const t of tokens) {
            const scope = t.scope.map((s) => `${s.prefix}:${s.actions.join(',')}`).join(' ')
            out(`${t.name.padEnd(20)} ${t.state.padEnd(8)} ${scope}${t.expiresAt ? `  expires ${new Date(t.expiresAt).toISOString()}` : ''}`)
          }
        return 0
      }
      case 'revoke': {
        if (!name) throw new UsageError('berth token revoke NAME')
        if (!(await operate(dataDir, 'token.revoke', { name })).revoked) return process.stderr.write(`berth token: no valid token ${name}\n`), 1
        out(`berth: revoked token ${name}`)
        return 0
      }
      default:
        throw new UsageError(`unknown token action ${JSON.stringify(action)} (create, list, revoke)`)
    }
  },
}

function parseDuration(text: string): number {
  const match = /^(\d+)([dhm])$/.exec(text)
  if (!match) throw new UsageError(`--expires takes a duration such as 30d, 12h or 90m, not ${JSON.stringify(text)}`)
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm']
}
