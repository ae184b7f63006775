// Tag retention, as Harbor has it: per repository prefix, keep the last N tags pushed, keep
// tags matching a pattern, drop tags older than a duration. Each garbage collection applies
// the rules first, as one undoable deletion per repository, so what they untag is freed by the
// same run (with --untagged) or stays pullable by digest until one that is.
//
// A tag goes when a rule's condition picks it (beyond the last N, or older than D) and nothing
// keeps it (among the last N, or matching the pattern). One rule per repository: the longest
// prefix that covers it.
import type Database from 'better-sqlite3'
import { PREFIX, prefixCovers } from '../auth/rules'
import type { DeletionRecord, Deletions } from '../store/deletions'
import type { EventLog } from '../store/events'
import { makeEvent, type Webhooks } from '../webhooks/webhooks'

export interface RetentionRule {
  prefix: string
  keepLast: number | null
  /** a regular expression over the whole tag */
  keepMatching: string | null
  dropOlderThanMs: number | null
}

export interface RetentionPlan {
  repository: string
  prefix: string
  /** tags the rule removes, with why */
  tags: { name: string; digest: string; reason: string }[]
}

export class RetentionError extends Error {}

const DAY = 24 * 60 * 60 * 1000
const DURATION = /^(\d+)\s*(d|h|w)$/

/** `30d`, `12h`, `2w` → milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim())
  if (!match || Number(match[1]) <= 0) throw new RetentionError(`not a duration: ${JSON.stringify(text)} (such as 30d, 12h or 2w)`)
  return Number(match[1]) * { h: DAY / 24, d: DAY, w: 7 * DAY }[match[2] as 'h' | 'd' | 'w']
}

export function formatDuration(ms: number): string {
  if (ms % (7 * DAY) === 0) return `${ms / (7 * DAY)}w`
  if (ms % DAY === 0) return `${ms / DAY}d`
  return `${Math.round(ms / (DAY / 24))}h`
}

/** Whether a rule's prefix covers a repository: as for access grants, except that `*` covers users/ too. */
function covers(prefix: string, repository: string): boolean {
  return prefix === '*' || prefixCovers(prefix, repository)
}

export function describeRule(rule: RetentionRule): string {
  const parts = [
    rule.keepLast !== null ? `keep the last ${rule.keepLast}` : '',
    rule.keepMatching ? `keep tags matching /${rule.keepMatching}/` : '',
    rule.dropOlderThanMs !== null ? `drop tags older than ${formatDuration(rule.dropOlderThanMs)}` : '',
  ]
  return parts.filter(Boolean).join(', ')
}

export class Retention {
  constructor(
    private readonly db: Database.Database,
    private readonly deletions: Deletions,
    private readonly events: EventLog,
    private readonly webhooks: Webhooks,
  ) {}

  list(): RetentionRule[] {
    return this.db
      .prepare<[], RetentionRule>('SELECT prefix, keep_last AS keepLast, keep_matching AS keepMatching, drop_older_than_ms AS dropOlderThanMs FROM retention_rules ORDER BY prefix')
      .all()
  }

  /** Adds a rule for a prefix, or replaces the one it has. */
  set(rule: RetentionRule): RetentionRule {
    if (!PREFIX.test(rule.prefix)) throw new RetentionError(`not a repository prefix: ${JSON.stringify(rule.prefix)} (such as ci/, app, or * for every repository)`)
    if (rule.keepLast === null && rule.dropOlderThanMs === null) {
      throw new RetentionError('a rule needs --keep-last N or --drop-older-than D (a pattern alone only keeps tags, it never removes any)')
    }
    if (rule.keepLast !== null && (!Number.isInteger(rule.keepLast) || rule.keepLast < 0)) throw new RetentionError(`--keep-last takes a whole number, not ${rule.keepLast}`)
    if (rule.keepMatching !== null) {
      try {
        new RegExp(rule.keepMatching)
      } catch (e) {
        throw new RetentionError(`not a regular expression: ${JSON.stringify(rule.keepMatching)} (${(e as Error).message})`)
      }
    }
    this.db
      .prepare(
        `INSERT INTO retention_rules (prefix, keep_last, keep_matching, drop_older_than_ms, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (prefix) DO UPDATE SET keep_last = excluded.keep_last, keep_matching = excluded.keep_matching, drop_older_than_ms = excluded.drop_older_than_ms`,
      )
      .run(rule.prefix, rule.keepLast, rule.keepMatching || null, rule.dropOlderThanMs, Date.now())
    return rule
  }

  remove(prefix: string): boolean {
    return this.db.prepare('DELETE FROM retention_rules WHERE prefix = ?').run(prefix).changes > 0
  }

  /** What the rules would remove now, repository by repository (only those losing a tag). */
  plan(now = Date.now()): RetentionPlan[] {
    const rules = this.list().sort((a, b) => b.prefix.length - a.prefix.length)
    if (rules.length === 0) return []
    const repositories = this.db.prepare<[], { id: number; name: string }>('SELECT id, name FROM repositories ORDER BY name').all()
    const tagsOf = this.db.prepare<[number], { name: string; digest: string; updated_at: number }>(
      'SELECT t.name, m.digest, t.updated_at FROM tags t JOIN manifests m ON m.id = t.manifest_id WHERE t.repository_id = ? ORDER BY t.updated_at DESC, t.name',
    )
    const plans: RetentionPlan[] = []
    for (const repository of repositories) {
      const rule = rules.find((r) => covers(r.prefix, repository.name))
      if (!rule) continue
      const pattern = rule.keepMatching ? new RegExp(`^(?:${rule.keepMatching})$`) : null
      const removed: RetentionPlan['tags'] = []
      for (const [rank, tag] of tagsOf.all(repository.id).entries()) {
        if (pattern?.test(tag.name)) continue
        if (rule.keepLast !== null && rank < rule.keepLast) continue
        const beyondLast = rule.keepLast !== null && rank >= rule.keepLast
        const tooOld = rule.dropOlderThanMs !== null && now - tag.updated_at > rule.dropOlderThanMs
        if (beyondLast || tooOld) {
          removed.push({ name: tag.name, digest: tag.digest, reason: beyondLast ? `not among the last ${rule.keepLast}` : `older than ${formatDuration(rule.dropOlderThanMs!)}` })
        }
      }
      if (removed.length) plans.push({ repository: repository.name, prefix: rule.prefix, tags: removed })
    }
    return plans
  }

  /**
   * Applies the rules: one undoable deletion per repository, recorded in the activity log
   * unless `quiet` (a dry run applies them in a transaction it rolls back).
   */
  apply(options: { now?: number; quiet?: boolean } = {}): { plans: RetentionPlan[]; records: DeletionRecord[] } {
    const plans = this.plan(options.now)
    const records = plans.map((plan) => {
      const record = this.deletions.deleteSelection(
        plan.repository,
        plan.tags.map((t) => t.name),
        [],
      )
      if (!options.quiet) {
        this.events.record({ kind: 'delete', repository: plan.repository, detail: `deletion ${record.id} by the retention rule for ${plan.prefix}: ${record.reference}` })
        const source = { addr: '', instanceID: this.webhooks.instanceId }
        for (const tag of plan.tags) {
          this.webhooks.enqueue(makeEvent('delete', { repository: plan.repository, tag: tag.name }, { method: 'DELETE', useragent: 'berth retention' }, 'berth', source))
        }
      }
      return record
    })
    return { plans, records }
  }
}
