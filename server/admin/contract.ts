// The admin contract: every operation the GUI can ask of Berth, as `'<area>:<action>'` → the
// argument and result types. One file, no imports, so the renderer can share it as types only.
// It is served two ways with the same names: over IPC in the desktop app, and as
// POST /api/<channel> on the admin listener when headless.

export type ListenerKind = 'http' | 'https' | 'mtls' | 'admin'
export type WriteMode = 'open' | 'users' | 'off' | 'client-certificate'

export interface EndpointView {
  kind: ListenerKind
  url: string
  /** HOST:PORT as clients write it in image references */
  address: string
  writes: WriteMode
  /** what a developer types, ready to copy */
  commands: { label: string; command: string }[]
}

export interface TrustSummary {
  installed: number
  total: number
  /** targets with at least one endpoint not installed */
  attention: string[]
}

export interface ActivityEvent {
  id: number
  at: number
  kind: 'push' | 'pull' | 'delete' | 'undo' | 'tag' | 'gc' | 'auth' | 'tls' | 'store'
  /** how many times (pulls of one reference by one client within a minute are one entry) */
  count: number
  repository: string | null
  reference: string | null
  digest: string | null
  /** user agent or identity */
  who: string | null
  detail: string | null
  /** for failures: what happened in words and how to fix it */
  failure?: { explanation: string; fix: string }
}

export interface Overview {
  version: string
  dataDir: string
  endpoints: EndpointView[]
  trust: TrustSummary
  storage: {
    /** bytes on disk: blobs plus manifests */
    stored: number
    /** bytes the repositories hold if nothing were shared */
    logical: number
    savedByDedupe: number
    /** free space on the data dir's disk */
    free: number | null
  }
  counts: { repositories: number; tags: number; manifests: number; blobs: number }
  recent: ActivityEvent[]
}

export interface RepositorySummary {
  name: string
  tags: number
  manifests: number
  lastPush: number | null
  /** bytes held only by this repository */
  uniqueBytes: number
  /** bytes it shares with other repositories */
  sharedBytes: number
}

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

export interface ManifestSummary {
  digest: string
  mediaType: string
  artifactType: string | null
  kind: 'image' | 'index' | 'artifact'
  /** the manifest and every blob it (and its children) reference, each once */
  size: number
  platforms: string[]
  pushedAt: number
  pushedBy: string | null
  signed: boolean
  /** how many tags name it */
  tagCount: number
}

export interface TagView extends ManifestSummary {
  tag: string
  updatedAt: number
}

export type TagSort = 'newest' | 'name' | 'semver'

/** How one client pulls from Berth: `{ref}` stands for `NAME:TAG` or `NAME@DIGEST`, `{file}` for a file name. */
export interface PullOption {
  client: 'docker' | 'podman' | 'skopeo'
  template: string
  /** why this endpoint (and flag) was chosen */
  note: string
}

/** One page of a repository's tags (filtered and sorted), and its newest untagged manifests. */
export interface RepositoryView {
  name: string
  /** every tag in the repository */
  tagCount: number
  /** the tags the filter matches */
  matching: number
  offset: number
  limit: number
  tags: TagView[]
  /** manifests no tag names (and not children or referrers of another manifest), newest first */
  untagged: ManifestSummary[]
  untaggedCount: number
  /** one command per client, for the endpoint that works with the trust installed now */
  pull: PullOption[]
}

export interface ImageConfigView {
  digest: string
  size: number
  os: string | null
  architecture: string | null
  variant: string | null
  created: string | null
  author: string | null
  entrypoint: string[] | null
  cmd: string[] | null
  workingDir: string | null
  user: string | null
  env: string[]
  labels: Record<string, string>
  exposedPorts: string[]
}

export interface LayerView {
  digest: string
  size: number
  mediaType: string
  /** how many other manifests (in any repository) use this blob */
  sharedWith: number
}

/** A layer's tar entries (at most 5000 listed; the totals count all). */
export interface LayerFilesView {
  entries: { path: string; size: number; type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other'; linkTarget?: string }[]
  totalEntries: number
  /** bytes of the files once unpacked */
  totalBytes: number
  truncated: boolean
  /** entries that delete a file of a lower layer */
  whiteouts: number
}

export interface HistoryView {
  created: string | null
  createdBy: string | null
  comment: string | null
  emptyLayer: boolean
}

export interface ChildView {
  digest: string
  mediaType: string
  size: number
  platform: string | null
  stored: boolean
  /** what pulling this platform downloads (manifest, config, layers); null when not stored */
  imageSize: number | null
}

export interface ReferrerView {
  digest: string
  artifactType: string | null
  kind: 'signature' | 'sbom' | 'attestation' | 'other'
  size: number
  created: string | null
}

export interface ManifestView extends ManifestSummary {
  tags: string[]
  pull: PullOption[]
  /** indexes in this repository that list this manifest as a platform */
  parents: { digest: string; tags: string[] }[]
  repository: string
  subject: string | null
  annotations: Record<string, string>
  config: ImageConfigView | null
  layers: LayerView[]
  history: HistoryView[]
  children: ChildView[]
  referrers: ReferrerView[]
  /** the manifest bytes as pushed */
  raw: string
}

export interface DeletionView {
  id: number
  at: number
  kind: 'tag' | 'manifest' | 'repository' | 'selection'
  repository: string
  reference: string | null
  undoneAt: number | null
  /** undoable while everything it removed is still stored; permanent once GC removed some of it */
  state: 'undoable' | 'undone' | 'permanent'
}

export interface GcCountsView {
  manifests: number
  blobs: number
  bytes: number
  uploads: number
  repositories: number
}

export interface WebhookView {
  name: string
  url: string
  headers: Record<string, string>
  actions: ('push' | 'pull' | 'delete')[]
  ignoredMediaTypes: string[]
  timeoutMs: number
  threshold: number
  backoffMs: number
  /** events waiting to be delivered */
  pending: number
}

export interface WebhookDeliveryView {
  id: number
  eventId: string
  action: string
  attempt: number
  status: number | null
  error: string | null
  at: number
  ms: number
}

export interface RetentionRuleView {
  prefix: string
  keepLast: number | null
  keepMatching: string | null
  dropOlderThanMs: number | null
  /** the rule in words */
  summary: string
}

export interface RetentionPlanView {
  repository: string
  prefix: string
  tags: { name: string; digest: string; reason: string }[]
}

export interface GcPreviewView extends GcCountsView {
  /** tags the retention rules would remove first */
  retention: RetentionPlanView[]
  /** what would go, the largest first (at most 200 of each) */
  items: { kind: 'manifest' | 'blob' | 'repository' | 'upload'; name: string; size: number }[]
}

export interface GcRunView extends GcCountsView {
  /** tags the retention rules removed first */
  retainedAway?: number
  runId: number
  dryRun: boolean
  untagged: boolean
  startedAt: number
  finishedAt: number
}

export interface GcProgressView {
  phase: 'mark' | 'manifests' | 'links' | 'blobs' | 'uploads' | 'repositories' | 'done'
  done: number
  total: number
}

export type TrustStateView = 'installed' | 'outdated' | 'missing'

export interface TrustCell {
  target: string
  /** HOST:PORT, or * for the system store */
  endpoint: string
  state: TrustStateView
  location: string
  /** set when the client ignores this folder for this endpoint (docker and a loopback mTLS port) */
  clientIgnores?: string
}

export interface TrustTargetView {
  id: string
  label: string
  needsRoot: boolean
  /** whether this client exists on this platform */
  applies: boolean
}

export interface TrustMatrix {
  targets: TrustTargetView[]
  endpoints: { address: string; mtls: boolean }[]
  cells: TrustCell[]
  root: string
}

export interface Diagnosis {
  target: string
  endpoint: string
  ok: boolean
  reason: string
  fix?: string
}

export interface CertificatesView {
  /** what clients must trust: Berth's CA, or the anchor of the user's own certificate */
  caFingerprint: string
  caNotAfter: string
  caPem: string
  /** the user's own server certificate file (serve --tls-cert), or null for Berth's */
  ownCertificate: string | null
  serverNames: string[]
  serverNotAfter: string
  /** the name suffixes and ranges the CA may certify */
  permitted: string
}

export interface ClientCertificateView {
  serial: string
  name: string
  issuedAt: number
  notAfter: number
  revokedAt: number | null
  state: 'valid' | 'expired' | 'revoked'
}

export interface ClientBundleView {
  serial: string
  /** a .tar.gz holding HOST:PORT/{ca.crt,client.cert,client.key} for certs.d */
  filename: string
  base64: string
}

export interface SettingsView {
  /** HOST:PORT or 'off' for each registry listener; takes effect on restart */
  http: string
  https: string
  mtls: string
  /** auto: open while the TLS listener is on loopback, users elsewhere */
  httpsWrite: 'auto' | 'open' | 'users' | 'off'
  /** who may write on the running TLS listener, null when it is off */
  httpsWriteInForce: 'open' | 'users' | 'off' | null
  auth: 'token' | 'basic'
  deleteEnabled: boolean
  gcSchedule: string
  hostNames: string[]
  /** requests per second per client address: auto (other machines only), off, or R,W */
  rateLimit: string
  dataDir: string
  /** listener changes saved but not yet running */
  restartNeeded: boolean
  /** whether this shell can restart itself (the desktop app can; headless says how) */
  canRestart: boolean
}

export interface UserView {
  name: string
  createdAt: number
}

export interface GrantView {
  who: string
  action: 'pull' | 'push' | 'delete'
  prefix: string
}

export interface RobotTokenView {
  name: string
  scope: { prefix: string; actions: string[] }[]
  createdAt: number
  expiresAt: number | null
  state: 'valid' | 'revoked' | 'expired'
}

/** Who may do what: the grants, groups, robot tokens and users the rules name. */
export interface AccessView {
  grants: GrantView[]
  groups: { name: string; members: string[] }[]
  tokens: RobotTokenView[]
  users: UserView[]
}

type None = Record<string, never>

export interface AdminContract {
  'overview:get': { args: None; result: Overview }
  'repositories:list': { args: None; result: RepositorySummary[] }
  'repository:get': { args: { name: string; filter?: string; sort?: TagSort; offset?: number; limit?: number }; result: RepositoryView }
  'repository:delete': { args: { name: string }; result: DeletionView }
  'manifest:get': { args: { repository: string; digest: string }; result: ManifestView }
  'layer:files': { args: { repository: string; digest: string }; result: LayerFilesView }
  'manifest:delete': { args: { repository: string; digest: string }; result: DeletionView }
  'tag:add': { args: { repository: string; digest: string; tag: string; move?: boolean }; result: { tag: string } }
  'tag:delete': { args: { repository: string; tag: string }; result: DeletionView }
  /** what a garbage collection would free after the delete, without deleting */
  'selection:delete': { args: { repository: string; tags: string[]; digests: string[] }; result: DeletionView }
  'delete:preview': { args: { repository: string; tag?: string; digest?: string; selection?: { tags: string[]; digests: string[] } }; result: { plain: GcCountsView; untagged: GcCountsView } }
  'deletions:list': { args: None; result: DeletionView[] }
  'deletions:undo': { args: { id: number }; result: DeletionView }
  'gc:preview': { args: { untagged: boolean }; result: GcPreviewView }
  'gc:run': { args: { untagged: boolean }; result: GcRunView }
  'webhooks:list': { args: Record<string, never>; result: WebhookView[] }
  'webhooks:add': { args: { name: string; url: string; actions: ('push' | 'pull' | 'delete')[]; headers: Record<string, string>; timeoutMs?: number }; result: WebhookView[] }
  'webhooks:remove': { args: { name: string }; result: WebhookView[] }
  'webhooks:test': { args: { name: string }; result: { status: number | null; error: string | null; ms: number } }
  'webhooks:deliveries': { args: { name: string }; result: WebhookDeliveryView[] }
  'retention:list': { args: Record<string, never>; result: RetentionRuleView[] }
  'retention:set': { args: { prefix: string; keepLast: number | null; keepMatching: string | null; dropOlderThan: string | null }; result: RetentionRuleView[] }
  'retention:remove': { args: { prefix: string }; result: RetentionRuleView[] }
  'gc:history': { args: None; result: GcRunView[] }
  'trust:matrix': { args: None; result: TrustMatrix }
  'trust:install': { args: { targets: string[] }; result: TrustMatrix }
  'trust:uninstall': { args: { targets: string[] }; result: TrustMatrix }
  'trust:doctor': { args: { target: string }; result: Diagnosis[] }
  /** the files and commands an install or uninstall would write and run */
  'trust:commands': { args: { targets: string[]; action: 'install' | 'uninstall' }; result: string[] }
  'certificates:get': { args: None; result: CertificatesView }
  'certificates:addName': { args: { name: string }; result: CertificatesView }
  'clients:list': { args: None; result: ClientCertificateView[] }
  'clients:issue': { args: { name: string }; result: ClientBundleView }
  'clients:revoke': { args: { serial: string }; result: { revoked: string[] } }
  'users:list': { args: None; result: UserView[] }
  'users:add': { args: { name: string; password: string }; result: UserView[] }
  'users:remove': { args: { name: string }; result: UserView[] }
  'access:get': { args: None; result: AccessView }
  /** actions: pull, push, delete, comma-separated; prefix: apps/web/ or * */
  'access:grant': { args: { who: string; actions: string; prefix: string }; result: AccessView }
  'access:revoke': { args: { who: string; actions: string; prefix: string }; result: AccessView }
  'access:check': { args: { who: string; action: string; repository: string }; result: { allow: boolean; because: string } }
  'groups:add': { args: { name: string; members?: string[] }; result: AccessView }
  'groups:remove': { args: { name: string }; result: AccessView }
  'groups:member': { args: { team: string; user: string; add: boolean }; result: AccessView }
  /** scopes: PREFIX:ACTIONS each; the token is in the result once and never again */
  'tokens:create': { args: { name: string; scopes: string[]; expiresInDays?: number | null }; result: { token: string; access: AccessView } }
  'tokens:revoke': { args: { name: string }; result: AccessView }
  'settings:get': { args: None; result: SettingsView }
  /** only the changed settings; confirmOpenWrites confirms open writes on a non-loopback TLS address */
  'settings:update': {
    args: Partial<Omit<SettingsView, 'dataDir' | 'restartNeeded' | 'canRestart' | 'httpsWriteInForce'>> & { confirmOpenWrites?: boolean }
    result: SettingsView
  }
  'app:restart': { args: None; result: { restarting: boolean } }
  'activity:recent': { args: { limit?: number }; result: ActivityEvent[] }
}

export type Channel = keyof AdminContract
export type ArgsOf<C extends Channel> = AdminContract[C]['args']
export type ResultOf<C extends Channel> = AdminContract[C]['result']

/** What the live stream carries: registry activity, GC progress, and "something changed". */
export type LiveMessage =
  | { type: 'event'; event: ActivityEvent }
  | { type: 'gc-progress'; progress: GcProgressView }
  | { type: 'changed'; area: 'trust' | 'settings' | 'certificates' | 'users' | 'access' | 'retention' | 'webhooks' }

/** Every call answers one of these; errors are words a person can act on. */
export type Reply<T> = { result: T } | { error: string }

export const CHANNELS: Channel[] = [
  'overview:get',
  'repositories:list',
  'repository:get',
  'repository:delete',
  'manifest:get',
  'manifest:delete',
  'layer:files',
  'tag:add',
  'tag:delete',
  'selection:delete',
  'delete:preview',
  'deletions:list',
  'deletions:undo',
  'gc:preview',
  'gc:run',
  'gc:history',
  'webhooks:list',
  'webhooks:add',
  'webhooks:remove',
  'webhooks:test',
  'webhooks:deliveries',
  'retention:list',
  'retention:set',
  'retention:remove',
  'trust:matrix',
  'trust:install',
  'trust:uninstall',
  'trust:doctor',
  'trust:commands',
  'certificates:get',
  'certificates:addName',
  'clients:list',
  'clients:issue',
  'clients:revoke',
  'users:list',
  'users:add',
  'users:remove',
  'access:get',
  'access:grant',
  'access:revoke',
  'access:check',
  'groups:add',
  'groups:remove',
  'groups:member',
  'tokens:create',
  'tokens:revoke',
  'settings:get',
  'settings:update',
  'app:restart',
  'activity:recent',
]

/** What the desktop app's preload exposes as `window.berth`: the IPC transport of this contract. */
export interface BerthBridge {
  call(channel: Channel, args: unknown): Promise<Reply<unknown>>
  onLive(listener: (message: LiveMessage) => void): () => void
}
