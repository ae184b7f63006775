// Operations the CLI (and later the GUI) can ask of Berth. The same functions run inside a
// live server (reached over the control socket) or on an offline core, so a change made while
// a server runs takes effect at once: a revoked certificate, a new user.
import type { Core } from '../core'
import { certificateInfo } from '../tls/certificates'

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
    caFingerprint: (await core.pki()).caFingerprint,
  }),
  fsck: async ({ core }: OperationContext, args: { repair?: boolean }) => core.store.fsck({ repair: args.repair }),
  'cert.ca': async ({ core }: OperationContext, _args: NoArgs) => {
    const pki = await core.pki()
    const info = certificateInfo(pki.ca.certPem)
    return { pem: pki.ca.certPem, clientCaPem: pki.clientCa.certPem, fingerprint: info.fingerprint, notAfter: info.notAfter.toISOString() }
  },
  'cert.client': async ({ core }: OperationContext, args: { name: string }): Promise<ClientBundle> => {
    const pki = await core.pki()
    const issued = pki.issueClient(args.name)
    return { serial: issued.serial.toLowerCase(), name: args.name, certPem: issued.certPem, keyPem: issued.keyPem, caPem: pki.ca.certPem }
  },
  'cert.list': async ({ core }: OperationContext, _args: NoArgs) => (await core.pki()).listClients(),
  'cert.revoke': async ({ core }: OperationContext, args: { target: string }) => (await core.pki()).revoke(args.target),
  'user.add': async ({ core }: OperationContext, args: { name: string; password: string }) => {
    core.users.add(args.name, args.password)
    return { name: args.name }
  },
  'user.remove': async ({ core }: OperationContext, args: { name: string }) => ({ removed: core.users.remove(args.name) }),
  'user.list': async ({ core }: OperationContext, _args: NoArgs) => core.users.list(),
  gc: async ({ core }: OperationContext, args: { dryRun?: boolean; untagged?: boolean }) =>
    core.gc.run({ dryRun: args.dryRun, untagged: args.untagged }),
  'gc.history': async ({ core }: OperationContext, _args: NoArgs) => core.gc.history(),
  /** `repository`, `repository:tag` or `repository@digest` */
  delete: async ({ core }: OperationContext, args: { reference: string }) => {
    const { deletions, events } = core.store
    const at = args.reference.indexOf('@')
    const colon = args.reference.lastIndexOf(':')
    const record =
      at >= 0
        ? deletions.deleteManifest(args.reference.slice(0, at), args.reference.slice(at + 1))
        : colon > args.reference.lastIndexOf('/')
          ? deletions.deleteTag(args.reference.slice(0, colon), args.reference.slice(colon + 1))
          : deletions.deleteRepository(args.reference)
    events.record({ kind: 'delete', repository: record.repository, reference: record.reference ?? undefined, detail: `deletion ${record.id} (undoable)` })
    return record
  },
  undo: async ({ core }: OperationContext, args: { id?: number }) => core.store.deletions.undo(args.id),
  deletions: async ({ core }: OperationContext, _args: NoArgs) => core.store.deletions.list(),
} satisfies Record<string, (context: OperationContext, args: never) => Promise<unknown>>

export type OperationName = keyof typeof operations

export function isOperation(name: string): name is OperationName {
  return Object.hasOwn(operations, name)
}
