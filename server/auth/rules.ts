// Who may pull, push or delete which repositories: grants on repository prefixes, kept in
// SQLite and read on every decision, so a change applies to a running server at once.
//
//   users/NAME/…   private to NAME; only a grant that names a users/ prefix opens it to others
//   anything else  per the grants whose prefix it starts with; `*` is every repository outside users/
//
// Built in (rows a fresh store starts with, revocable like any other): anonymous may pull `*`,
// authenticated identities may push `*`. WHO is user:NAME, group:NAME, token:NAME, cert:NAME,
// anonymous (everyone, signed in or not) or authenticated (anyone signed in).
import type Database from 'better-sqlite3'

export type Action = 'pull' | 'push' | 'delete'
export const ACTIONS: Action[] = ['pull', 'push', 'delete']

/** Who is asking: a kind and a name; anonymous has no name. */
export interface Identity {
  kind: 'anonymous' | 'user' | 'token' | 'cert'
  name?: string
}

export const ANONYMOUS: Identity = { kind: 'anonymous' }

export interface Grant {
  who: string
  action: Action
  prefix: string
}

export interface Decision {
  allow: boolean
  /** the rule that decided, in words */
  because: string
}

export class AccessError extends Error {}

const WHO = /^(anonymous|authenticated|(user|group|token|cert):[A-Za-z0-9._@-]{1,64})$/
/** `*`, a folder such as `apps/web/`, or a repository name: what grants and retention rules apply to. */
export const PREFIX = /^(\*|[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\/?)$/

export function identityText(identity: Identity): string {
  return identity.kind === 'anonymous' ? 'anonymous' : `${identity.kind}:${identity.name}`
}

export function parseIdentity(text: string): Identity {
  if (text === 'anonymous') return ANONYMOUS
  const match = /^(user|token|cert):(.+)$/.exec(text)
  if (!match) throw new AccessError(`not an identity: ${JSON.stringify(text)} (user:NAME, token:NAME, cert:NAME or anonymous)`)
  return { kind: match[1] as Identity['kind'], name: match[2] }
}

export function parseActions(text: string): Action[] {
  const actions = text.split(',').map((a) => a.trim())
  const unknown = actions.filter((a) => !(ACTIONS as string[]).includes(a))
  if (unknown.length || actions.length === 0) throw new AccessError(`actions are pull, push and delete, comma-separated; not ${JSON.stringify(text)}`)
  return [...new Set(actions)] as Action[]
}

/** Whether `repository` falls under `prefix`: `*` (outside users/), `apps/web/` (a folder) or `apps/web` (exactly, or as a folder). */
export function prefixCovers(prefix: string, repository: string): boolean {
  if (prefix === '*') return !repository.startsWith('users/')
  if (prefix.endsWith('/')) return repository.startsWith(prefix)
  return repository === prefix || repository.startsWith(`${prefix}/`)
}

export class AccessRules {
  private readonly grantsFor
  private readonly groupsOf

  constructor(private readonly db: Database.Database) {
    // prepared once: a decision runs on every request of a listener with rules
    this.grantsFor = db.prepare<[string], Grant>('SELECT who, action, prefix FROM access_grants WHERE action = ?')
    this.groupsOf = db.prepare<[string], { team: string }>('SELECT team FROM group_members WHERE user = ?')
  }

  grant(who: string, actions: Action[], prefix: string): void {
    this.check(who, prefix)
    const insert = this.db.prepare('INSERT OR IGNORE INTO access_grants (who, action, prefix) VALUES (?, ?, ?)')
    this.db.transaction(() => actions.forEach((action) => insert.run(who, action, prefix)))()
  }

  /** Returns how many grants it removed. */
  revoke(who: string, actions: Action[], prefix: string): number {
    this.check(who, prefix)
    const remove = this.db.prepare('DELETE FROM access_grants WHERE who = ? AND action = ? AND prefix = ?')
    return this.db.transaction(() => actions.reduce((sum, action) => sum + remove.run(who, action, prefix).changes, 0))()
  }

  list(): Grant[] {
    return this.db.prepare<[], Grant>('SELECT who, action, prefix FROM access_grants ORDER BY prefix, who, action').all()
  }

  /** The decision for one identity, action and repository, with the rule that made it. */
  decide(identity: Identity, action: Action, repository: string): Decision {
    const who = identityText(identity)
    if (repository.startsWith('users/')) {
      const owner = repository.split('/')[1]
      if (identity.kind === 'user' && identity.name === owner) return { allow: true, because: `users/${owner}/ belongs to ${who}` }
    }
    const names = this.namesOf(identity)
    const grants = this.grantsFor
      .all(action)
      .filter((g) => names.has(g.who) && prefixCovers(g.prefix, repository))
    // the most specific prefix is reported (the longest); `*` last
    const specificity = (g: Grant) => (g.prefix === '*' ? 0 : g.prefix.length)
    grants.sort((a, b) => specificity(b) - specificity(a))
    const rule = grants[0]
    if (rule) return { allow: true, because: `granted: ${rule.who} ${rule.action} ${rule.prefix}` }
    if (repository.startsWith('users/')) return { allow: false, because: `${repository.split('/').slice(0, 2).join('/')}/ is private to user:${repository.split('/')[1]}` }
    return { allow: false, because: `no grant gives ${who} ${action} on ${repository}` }
  }

  /** Every WHO a grant may name that applies to this identity (its groups included). */
  private namesOf(identity: Identity): Set<string> {
    const names = new Set(['anonymous'])
    if (identity.kind === 'anonymous') return names
    names.add('authenticated')
    names.add(identityText(identity))
    if (identity.kind === 'user') {
      const groups = this.groupsOf.all(identity.name!)
      for (const g of groups) names.add(`group:${g.team}`)
    }
    return names
  }

  private check(who: string, prefix: string): void {
    if (!WHO.test(who)) throw new AccessError(`not a WHO: ${JSON.stringify(who)} (user:NAME, group:NAME, token:NAME, cert:NAME, anonymous or authenticated)`)
    if (!PREFIX.test(prefix)) throw new AccessError(`not a repository prefix: ${JSON.stringify(prefix)} (such as apps/web/, or * for the rest)`)
  }
}

const TEAM = /^[A-Za-z0-9._-]{1,64}$/

/** Groups of users, for grants that name group:TEAM. */
export class Groups {
  constructor(private readonly db: Database.Database) {}

  add(team: string, members: string[] = []): void {
    if (!TEAM.test(team)) throw new AccessError(`invalid group name ${JSON.stringify(team)}: use letters, digits and . _ -`)
    this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO groups (name, created_at) VALUES (?, ?)').run(team, Date.now())
      for (const user of members) this.addMember(team, user)
    })()
  }

  remove(team: string): boolean {
    return this.db.prepare('DELETE FROM groups WHERE name = ?').run(team).changes > 0
  }

  addMember(team: string, user: string): void {
    if (!this.db.prepare('SELECT 1 FROM groups WHERE name = ?').get(team)) throw new AccessError(`no group ${team}: berth group add ${team}`)
    if (!this.db.prepare('SELECT 1 FROM users WHERE name = ?').get(user)) throw new AccessError(`no user ${user}: berth user add ${user}`)
    this.db.prepare('INSERT OR IGNORE INTO group_members (team, user) VALUES (?, ?)').run(team, user)
  }

  removeMember(team: string, user: string): boolean {
    return this.db.prepare('DELETE FROM group_members WHERE team = ? AND user = ?').run(team, user).changes > 0
  }

  list(): { name: string; members: string[] }[] {
    const teams = this.db.prepare<[], { name: string }>('SELECT name FROM groups ORDER BY name').all()
    const members = this.db.prepare<[string], { user: string }>('SELECT user FROM group_members WHERE team = ? ORDER BY user')
    return teams.map((t) => ({ name: t.name, members: members.all(t.name).map((m) => m.user) }))
  }
}

/** What robot tokens may do: the scope they were created with (see tokens.ts). */
export interface RobotScopes {
  allows(name: string, action: Action, repository: string): boolean
}

/**
 * The decision for any identity. A robot token may do what its scope says and pull what
 * anonymous may; it is not "authenticated" for the grants (a CI token scoped to apps/web/ must
 * not push everywhere).
 */
export function decide(rules: AccessRules, robots: RobotScopes, identity: Identity, action: Action, repository: string): Decision {
  if (identity.kind !== 'token') return rules.decide(identity, action, repository)
  if (robots.allows(identity.name!, action, repository)) return { allow: true, because: `within the scope of token:${identity.name}` }
  const asAnyone = rules.decide(ANONYMOUS, action, repository)
  if (asAnyone.allow) return asAnyone
  return { allow: false, because: `${repository} is outside the scope of token:${identity.name}` }
}
