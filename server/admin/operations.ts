// Operations the CLI (and later the GUI) can ask of Berth. The same functions run inside a
// live server (reached over the control socket) or on an offline core, so a change made while
// a server runs takes effect at once: a revoked certificate, a new user.
import type { Core } from '../core'
import type { Readiness } from '../health'
import { DeleteError, type DeletionRecord } from '../store/deletions'
import { isValidRepositoryName } from '../store/references'
import type { Store } from '../store/store'
import { certificateInfo } from '../tls/certificates'
import { decide, parseActions, parseIdentity } from '../auth/rules'
import { parseRobotScope } from '../auth/tokens'
import { parseDuration } from '../gc/retention'
import { WebhookDispatcher } from '../webhooks/dispatcher'
import { makeEvent, WebhookError, type WebhookSettings } from '../webhooks/webhooks'

export interface ListenerInfo {
  kind: string
  host: string
  port: number
  url: string
}

export interface OperationContext {
  core: Core
  /** the running listeners; empty on an offline core */
  listeners: ListenerInfo[]
  /** the running server's readiness; absent on an offline core */
  readiness?: () => Promise<Readiness>
  /** the running server's webhook dispatcher; absent on an offline core */
  dispatcher?: WebhookDispatcher
  /** an offline core: this process alone uses the store */
  offline?: boolean
}

export interface ClientBundle {
  serial: string
  name: string
  certPem: string
  keyPem: string
  /** the CA clients use to verify Berth's server certificate */
  caPem: string
}

type NoArgs = Record<string, never>

export const operations = {
  status: async ({ core, listeners }: OperationContext, _args: NoArgs) => ({
    dataDir: core.dataDir,
    listeners,
    serverNames: (await core.pki()).serverInfo().names,
    caFingerprint: certificateInfo((await core.pki()).trustAnchorPem).fingerprint,
  }),
  /** readiness of the running server (null offline: nothing serves) */
  health: async ({ readiness }: OperationContext, _args: NoArgs) => (readiness ? readiness() : null),
  fsck: async ({ core }: OperationContext, args: { repair?: boolean }) => core.store.fsck({ repair: args.repair }),
  'cert.ca': async ({ core }: OperationContext, _args: NoArgs) => {
    const pki = await core.pki()
    // with the user's own server certificate, what clients must trust is its anchor, not Berth's CA
    const info = certificateInfo(pki.trustAnchorPem)
    return {
      pem: pki.trustAnchorPem,
      clientCaPem: pki.clientCa.certPem,
      fingerprint: info.fingerprint,
      notAfter: info.notAfter.toISOString(),
      ownCertificate: pki.ownCertificate?.certPath ?? null,
    }
  },
  'cert.client': async ({ core }: OperationContext, args: { name: string }): Promise<ClientBundle> => {
    const pki = await core.pki()
    const issued = pki.issueClient(args.name)
    return { serial: issued.serial.toLowerCase(), name: args.name, certPem: issued.certPem, keyPem: issued.keyPem, caPem: pki.trustAnchorPem }
  },
  'cert.list': async ({ core }: OperationContext, _args: NoArgs) => (await core.pki()).listClients(),
  'cert.revoke': async ({ core }: OperationContext, args: { target: string }) => (await core.pki()).revoke(args.target),
  'user.add': async ({ core }: OperationContext, args: { name: string; password: string }) => {
    core.users.add(args.name, args.password)
    return { name: args.name }
  },
  'user.remove': async ({ core }: OperationContext, args: { name: string }) => ({ removed: core.users.remove(args.name) }),
  'user.list': async ({ core }: OperationContext, _args: NoArgs) => core.users.list(),
  'user.import': async ({ core }: OperationContext, args: { htpasswd: string }) => ({ imported: core.users.importHtpasswd(args.htpasswd) }),
  'user.export': async ({ core }: OperationContext, _args: NoArgs) => ({ htpasswd: core.users.exportHtpasswd() }),
  'group.add': async ({ core }: OperationContext, args: { name: string; members?: string[] }) => (core.groups.add(args.name, args.members ?? []), { name: args.name }),
  'group.remove': async ({ core }: OperationContext, args: { name: string }) => ({ removed: core.groups.remove(args.name) }),
  'group.list': async ({ core }: OperationContext, _args: NoArgs) => core.groups.list(),
  'group.member': async ({ core }: OperationContext, args: { team: string; user: string; add: boolean }) =>
    args.add ? (core.groups.addMember(args.team, args.user), { changed: true }) : { changed: core.groups.removeMember(args.team, args.user) },
  'access.grant': async ({ core }: OperationContext, args: { who: string; actions: string; prefix: string }) => (core.rules.grant(args.who, parseActions(args.actions), args.prefix), {}),
  'access.revoke': async ({ core }: OperationContext, args: { who: string; actions: string; prefix: string }) => ({
    removed: core.rules.revoke(args.who, parseActions(args.actions), args.prefix),
  }),
  'access.list': async ({ core }: OperationContext, _args: NoArgs) => core.rules.list(),
  'access.check': async ({ core }: OperationContext, args: { who: string; action: string; repository: string }) => {
    const [action] = parseActions(args.action)
    return decide(core.rules, core.robots, parseIdentity(args.who), action, args.repository)
  },
  'token.create': async ({ core }: OperationContext, args: { name: string; scopes: string[]; expiresAt: number | null }) => ({
    token: core.robots.create(args.name, args.scopes.map(parseRobotScope), args.expiresAt),
  }),
  'token.list': async ({ core }: OperationContext, _args: NoArgs) => core.robots.list(),
  'token.revoke': async ({ core }: OperationContext, args: { name: string }) => ({ revoked: core.robots.revoke(args.name) }),
  gc: async ({ core, offline }: OperationContext, args: { dryRun?: boolean; untagged?: boolean }) =>
    core.gc.run({ dryRun: args.dryRun, untagged: args.untagged, exclusive: offline }),
  'gc.history': async ({ core }: OperationContext, _args: NoArgs) => core.gc.history(),
  'webhook.add': async ({ core }: OperationContext, args: WebhookSettings) => core.store.webhooks.add(args),
  'webhook.list': async ({ core }: OperationContext, _args: NoArgs) => core.store.webhooks.list().map((hook) => ({ ...hook, pending: core.store.webhooks.pending(hook.name) })),
  'webhook.remove': async ({ core }: OperationContext, args: { name: string }) => ({ removed: core.store.webhooks.remove(args.name) }),
  'webhook.test': async ({ core, dispatcher }: OperationContext, args: { name: string }) => (dispatcher ?? new WebhookDispatcher(core.store.webhooks)).test(args.name),
  'webhook.deliveries': async ({ core }: OperationContext, args: { name: string; limit?: number }) => {
    if (!core.store.webhooks.get(args.name)) throw new WebhookError(`no webhook named ${args.name}`)
    return core.store.webhooks.deliveries(args.name, Math.min(Math.max(args.limit ?? 100, 1), 1000))
  },
  'retention.list': async ({ core }: OperationContext, _args: NoArgs) => core.store.retention.list(),
  'retention.set': async ({ core }: OperationContext, args: { prefix: string; keepLast: number | null; keepMatching: string | null; dropOlderThan: string | null }) =>
    core.store.retention.set({
      prefix: args.prefix,
      keepLast: args.keepLast,
      keepMatching: args.keepMatching,
      dropOlderThanMs: args.dropOlderThan === null ? null : parseDuration(args.dropOlderThan),
    }),
  'retention.remove': async ({ core }: OperationContext, args: { prefix: string }) => ({ removed: core.store.retention.remove(args.prefix) }),
  'retention.preview': async ({ core }: OperationContext, _args: NoArgs) => core.store.retention.plan(),
  /** `repository`, `repository:tag` or `repository@digest` */
  delete: async ({ core }: OperationContext, args: { reference: string }) => deleteReference(core.store, parseDeleteTarget(args.reference)),
  /** several `repository:tag` / `repository@digest` references of one repository, as one deletion */
  'delete.many': async ({ core }: OperationContext, args: { references: string[] }) => deleteReference(core.store, selectionOf(args.references)),
  undo: async ({ core }: OperationContext, args: { id?: number }) => undoDeletion(core.store, args.id),
  deletions: async ({ core }: OperationContext, _args: NoArgs) => core.store.deletions.list(),
} satisfies Record<string, (context: OperationContext, args: never) => Promise<unknown>>

export type OperationName = keyof typeof operations

export function isOperation(name: string): name is OperationName {
  return Object.hasOwn(operations, name)
}

/** What a delete removes: a whole repository, one tag, one manifest (with its tags), or a selection. */
export interface DeleteTarget {
  repository: string
  tag?: string
  digest?: string
  selection?: { tags: string[]; digests: string[] }
}

/** `repository`, `repository:tag` or `repository@digest` */
export function parseDeleteTarget(reference: string): DeleteTarget {
  const at = reference.indexOf('@')
  if (at >= 0) return { repository: reference.slice(0, at), digest: reference.slice(at + 1) }
  const colon = reference.lastIndexOf(':')
  if (colon > reference.lastIndexOf('/')) return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) }
  return { repository: reference }
}

/** Several references of one repository as one selection (a bare repository name is not one). */
export function selectionOf(references: string[]): DeleteTarget {
  const targets = references.map(parseDeleteTarget)
  const repository = targets[0]?.repository ?? ''
  const other = targets.find((t) => t.repository !== repository)
  if (other) throw new DeleteError(`one deletion covers one repository: ${repository} and ${other.repository} differ`)
  const whole = targets.find((t) => t.tag === undefined && t.digest === undefined)
  if (whole) throw new DeleteError(`${whole.repository} is a whole repository: delete it on its own`)
  return { repository, selection: { tags: targets.flatMap((t) => t.tag ?? []), digests: targets.flatMap((t) => t.digest ?? []) } }
}

/** The delete itself, without recording it: also what a GC preview runs and rolls back. */
export function applyDelete(store: Store, target: DeleteTarget): DeletionRecord {
  const { deletions } = store
  if (!isValidRepositoryName(target.repository)) throw new DeleteError(`invalid repository name: ${JSON.stringify(target.repository)}`)
  if (target.selection) return deletions.deleteSelection(target.repository, target.selection.tags, target.selection.digests)
  if (target.digest !== undefined) return deletions.deleteManifest(target.repository, target.digest)
  if (target.tag !== undefined) return deletions.deleteTag(target.repository, target.tag)
  return deletions.deleteRepository(target.repository)
}

/** An undoable delete, recorded in the activity log. */
export function deleteReference(store: Store, target: DeleteTarget): DeletionRecord {
  const record = applyDelete(store, target)
  notifyDeletes(store, target)
  store.events.record({ kind: 'delete', repository: record.repository, reference: record.reference ?? undefined, detail: `deletion ${record.id}` })
  return record
}

/** Webhook delete events for a delete made from the GUI or CLI (the actor is berth). */
function notifyDeletes(store: Store, target: DeleteTarget): void {
  const targets = target.selection
    ? [...target.selection.tags.map((tag) => ({ tag })), ...target.selection.digests.map((digest) => ({ digest }))]
    : [target.tag !== undefined ? { tag: target.tag } : target.digest !== undefined ? { digest: target.digest } : {}]
  const source = { addr: '', instanceID: store.webhooks.instanceId }
  try {
    for (const t of targets) store.webhooks.enqueue(makeEvent('delete', { repository: target.repository, ...t }, { method: 'DELETE', useragent: 'berth' }, 'berth', source))
  } catch {
    // the delete happened; a lost notification must not undo it
  }
}

export function undoDeletion(store: Store, id?: number): DeletionRecord {
  const record = store.deletions.undo(id)
  store.events.record({ kind: 'undo', repository: record.repository, reference: record.reference ?? undefined, detail: `deletion ${record.id} undone` })
  return record
}
