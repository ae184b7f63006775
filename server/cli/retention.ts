// berth retention: keep the last N tags, keep tags matching a pattern, drop tags older than D,
// per repository prefix. Every gc applies the rules first (one undoable deletion per repository).
import { resolveDataDir } from '../config'
import { describeRule } from '../gc/retention'
import { operate } from './operate'
import { out, parseFlags, UsageError, type Command } from './usage'

export const retentionCommand: Command = {
  name: 'retention',
  summary: 'tag retention rules per repository prefix, applied by every gc',
  help: `usage:
  berth retention set PREFIX [--keep-last N] [--keep-matching REGEX] [--drop-older-than D]
  berth retention remove PREFIX
  berth retention list [--json]
  berth retention preview [--json]    the tags the next gc would remove, and why

PREFIX is * (every repository), a folder such as ci/, or a repository name; a repository follows
the rule with the longest prefix that covers it. A tag goes when it is not among the last N
pushed, or is older than D (30d, 12h, 2w), unless it matches REGEX (the whole tag) or is among
the last N. Each gc removes them as one deletion per repository: \`berth undo\` restores it
(until a gc with --untagged frees what they named). All take --data-dir DIR.`,

  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        'data-dir': { type: 'string' },
        'keep-last': { type: 'string' },
        'keep-matching': { type: 'string' },
        'drop-older-than': { type: 'string' },
        json: { type: 'boolean' },
      },
      true,
    )
    const [action, prefix] = positionals
    if (values.help || action === undefined) return out(this.help), action === undefined && !values.help ? 2 : 0
    const dataDir = resolveDataDir(values['data-dir'])
    switch (action) {
      case 'set': {
        if (!prefix) throw new UsageError('berth retention set PREFIX: the prefix is missing (* for every repository)')
        const keepLast = values['keep-last'] === undefined ? null : Number(values['keep-last'])
        if (keepLast !== null && !(Number.isInteger(keepLast) && keepLast >= 0)) throw new UsageError(`--keep-last takes a whole number, not ${JSON.stringify(values['keep-last'])}`)
        const rule = await operate(dataDir, 'retention.set', {
          prefix,
          keepLast,
          keepMatching: values['keep-matching'] ?? null,
          dropOlderThan: values['drop-older-than'] ?? null,
        })
        out(`berth: retention for ${prefix}: ${describeRule(rule)} (applied by every gc; \`berth retention preview\` shows what it would remove)`)
        return 0
      }
      case 'remove': {
        if (!prefix) throw new UsageError('berth retention remove PREFIX: the prefix is missing')
        if (!(await operate(dataDir, 'retention.remove', { prefix })).removed) return process.stderr.write(`berth retention: no rule for ${prefix}\n`), 1
        out(`berth: removed the retention rule for ${prefix}`)
        return 0
      }
      case 'list': {
        const rules = await operate(dataDir, 'retention.list', {})
        if (values.json) out(JSON.stringify(rules, null, 2))
        else if (rules.length === 0) out('berth: no retention rules (every tag is kept)')
        else for (const rule of rules) out(`${rule.prefix.padEnd(24)} ${describeRule(rule)}`)
        return 0
      }
      case 'preview': {
        const plans = await operate(dataDir, 'retention.preview', {})
        if (values.json) out(JSON.stringify(plans, null, 2))
        else if (plans.length === 0) out('berth: the retention rules would remove no tag now')
        else for (const plan of plans) for (const tag of plan.tags) out(`${plan.repository}:${tag.name}  ${tag.reason} (rule ${plan.prefix})`)
        return 0
      }
      default:
        throw new UsageError(`unknown retention action ${JSON.stringify(action)} (set, remove, list, preview)`)
    }
  },
}
