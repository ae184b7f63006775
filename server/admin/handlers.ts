// The admin contract implemented over a running Berth. Both transports call these: the admin
// listener (headless, HTTP + token) and IPC in the desktop app. Errors are thrown with a message
// a person can act on; the transports answer them as { error }.
import { statfs } from 'node:fs/promises'
import packageJson from '../../package.json' with { type: 'json' }
import type { Berth } from '../berth'
import { isRegistryListener } from '../listeners'
import { formatAuthority, isLoopbackHost } from '../config'
import { parseDigest, parseManifestReference } from '../store/references'
import { certificateInfo } from '../tls/certificates'
import type { RegistryEvent } from '../store/events'
import { activityView } from './activity'
import { certsDirBundle } from './bundle'
import { decide, parseActions, parseIdentity } from '../auth/rules'
import { parseRobotScope } from '../auth/tokens'
import type { AccessView, AdminContract, ArgsOf, Channel, EndpointView, PullOption, ResultOf, SettingsView, TrustMatrix } from './contract'
import { LiveHub } from './live'
import { applyDelete, deleteReference, undoDeletion, type DeleteTarget } from './operations'
import { StoreQueries } from './queries'
import { describeRule, parseDuration } from '../gc/retention'
import { layerFiles } from './layer-files'
import { WebhookDispatcher } from '../webhooks/dispatcher'
import { TrustView } from './trust-view'

export type AdminHandlers = { [C in Channel]: (args: ArgsOf<C>) => Promise<ResultOf<C>> }

export interface AdminService {
  handlers: AdminHandlers
  live: LiveHub
  /** runs one channel by name with untyped arguments (what arrives over a transport) */
  call(channel: string, args: unknown): Promise<unknown>
  close(): void
}

const RECENT_ON_OVERVIEW = 8

export function createAdminService(berth: Berth): AdminService {
  const { store, core } = berth
  const queries = new StoreQueries(store)
  const trust = new TrustView(berth)
  const live = new LiveHub(store)

  /** The TLS addresses podman (and skopeo, buildah) trust now: its certs.d or the system store. */
  const podmanTrusted = async (matrix?: TrustMatrix): Promise<Set<string>> => {
    if (!berth.listeners.some((l) => l.kind === 'https' || l.kind === 'mtls')) return new Set()
    matrix ??= await trust.matrix()
    const cells = matrix.cells.filter((c) => ['podman', 'podman-rootless', 'system'].includes(c.target) && c.state === 'installed')
    const everywhere = cells.some((c) => c.endpoint === '*')
    return new Set(everywhere ? matrix.endpoints.map((e) => e.address) : cells.map((c) => c.endpoint))
  }
  const endpoints = async (matrix: TrustMatrix): Promise<EndpointView[]> => {
    const trusted = await podmanTrusted(matrix)
    return berth.listeners
      .filter(isRegistryListener)
      .map((l) => {
        const address = clientAddress(l.host, l.port)
        const writes = l.kind === 'mtls' ? 'client-certificate' : l.kind === 'https' ? (berth.settings().httpsWriteInForce ?? 'off') : 'open'
        return { kind: l.kind, url: l.url, address, writes, commands: endpointCommands(l.kind, address, writes, trusted.has(address)) }
      })
  }
  const pullOptions = async (): Promise<PullOption[]> => {
    const https = berth.listeners.find((l) => l.kind === 'https')
    const http = berth.listeners.find((l) => l.kind === 'http')
    const options: PullOption[] = []
    const tls = https ? clientAddress(https.host, https.port) : null
    const plain = http ? clientAddress(http.host, http.port) : null
    // docker pulls from a loopback registry without verifying it (it treats 127.0.0.0/8 as insecure)
    const dockerAddress = tls ?? plain
    if (dockerAddress) options.push({ client: 'docker', template: `docker pull ${dockerAddress}/{ref}`, note: tls ? 'the TLS endpoint' : 'the plain-HTTP endpoint' })
    // podman and skopeo verify TLS even on loopback: the TLS endpoint once they trust Berth's CA
    const trusted = tls !== null && (await podmanTrusted()).has(tls)
    const [address, insecure, note] = tls && trusted
      ? [tls, false, 'the TLS endpoint (trust for podman is installed)']
      : plain
        ? [plain, true, 'the plain-HTTP endpoint: install trust for podman to use TLS']
        : [tls, true, 'without verifying TLS: install trust for podman to verify it']
    if (address) {
      options.push({ client: 'podman', template: `podman pull${insecure ? ' --tls-verify=false' : ''} ${address}/{ref}`, note })
      options.push({ client: 'skopeo', template: `skopeo copy${insecure ? ' --src-tls-verify=false' : ''} docker://${address}/{ref} oci-archive:{file}`, note })
    }
    return options
  }
  const deletePreview = (target: DeleteTarget) => {
    const change = () => void applyDelete(store, target)
    return { plain: core.gc.wouldFreeAfter(change), untagged: core.gc.wouldFreeAfter(change, { untagged: true }) }
  }
  const settingsView = (): SettingsView => ({ ...berth.settings(), dataDir: berth.dataDir, canRestart: Boolean(berth.restart) })
  const certificates = async () => {
    const pki = await core.pki()
    const ca = certificateInfo(pki.trustAnchorPem)
    const server = pki.serverInfo()
    return {
      caFingerprint: ca.fingerprint,
      caNotAfter: ca.notAfter.toISOString(),
      caPem: pki.trustAnchorPem,
      ownCertificate: pki.ownCertificate?.certPath ?? null,
      serverNames: server.names,
      serverNotAfter: server.notAfter.toISOString(),
      permitted: 'localhost and *.localhost, *.local, *.internal, *.lan, *.home.arpa, *.test, this host name, host.docker.internal; loopback, private and link-local IPs',
    }
  }
  const users = () => core.users.list()
  const accessView = (): AccessView => ({ grants: core.rules.list(), groups: core.groups.list(), tokens: core.robots.list(), users: users() })
  const accessChanged = () => (live.publish({ type: 'changed', area: 'access' }), accessView())

  // a delete's line says what it is now: still undoable, undone, or made permanent by a GC
  const activity = (event: RegistryEvent) => {
    const view = activityView(event)
    const id = view.kind === 'delete' ? /^deletion (\d+)/.exec(view.detail ?? '')?.[1] : undefined
    const state = id ? store.deletions.stateOf(Number(id)) : undefined
    if (state) view.detail = `deletion ${id} (${state === 'permanent' ? 'permanent: a garbage collection removed it' : state})`
    return view
  }

  const webhooksView = () => store.webhooks.list().map((hook) => ({ ...hook, pending: store.webhooks.pending(hook.name) }))
  const retentionView = () => store.retention.list().map((rule) => ({ ...rule, summary: describeRule(rule) }))

  const handlers: AdminHandlers = {
    'overview:get': async () => {
      let free: number | null = null
      try {
        const fs = await statfs(berth.dataDir)
        free = fs.bavail * fs.bsize
      } catch {
        free = null
      }
      // one look at the trust folders serves both the commands and the summary
      const matrix = await trust.matrix()
      return {
        version: packageJson.version,
        dataDir: berth.dataDir,
        endpoints: await endpoints(matrix),
        trust: await trust.summary(matrix),
        storage: { ...queries.storage(), free },
        counts: queries.counts(),
        recent: store.events.recent(RECENT_ON_OVERVIEW).map(activity),
      }
    },
    'repositories:list': async () => queries.repositories(),
    'repository:get': async ({ name, ...page }) => {
      const view = queries.repository(name, await pullOptions(), page)
      if (!view) throw new Error(`repository ${name} is not in the registry`)
      return view
    },
    'repository:delete': async ({ name }) => deleteReference(store, { repository: name }),
    'manifest:get': async ({ repository, digest }) => {
      const view = queries.manifest(repository, digest, await pullOptions())
      if (!view) throw new Error(`manifest ${digest} is not in ${repository}`)
      return view
    },
    'layer:files': async ({ repository, digest }) => layerFiles(store, repository, digest),
    'manifest:delete': async ({ repository, digest }) => deleteReference(store, { repository, digest }),
    'tag:add': async ({ repository, digest, tag, move }) => {
      const ref = parseManifestReference(tag)
      if (!ref || ref.kind !== 'tag') throw new Error(`${JSON.stringify(tag)} is not a valid tag (letters, digits, _ . -; at most 128; not starting with . or -)`)
      const parsed = parseDigest(digest)
      if (!parsed) throw new Error(`${JSON.stringify(digest)} is not a digest`)
      const manifest = store.manifests.get(repository, { kind: 'digest', digest: parsed })
      if (!manifest) throw new Error(`manifest ${digest} is not in ${repository}`)
      const current = store.manifests.get(repository, ref)
      if (current && current.digest !== digest && !move) throw new Error(`${repository}:${tag} already names ${current.digest}: choose Move tag to point it here instead`)
      store.manifests.put(repository, ref, manifest.content, manifest.mediaType, 'berth gui')
      store.events.record({ kind: 'tag', repository, reference: tag, digest, detail: `tagged ${digest} as ${tag}` })
      return { tag }
    },
    'tag:delete': async ({ repository, tag }) => deleteReference(store, { repository, tag }),
    'selection:delete': async ({ repository, tags, digests }) => deleteReference(store, { repository, selection: { tags, digests } }),
    'delete:preview': async (target) => deletePreview(target),
    'deletions:list': async () => store.deletions.list(),
    'deletions:undo': async ({ id }) => undoDeletion(store, id),
    'gc:preview': async ({ untagged }) => core.gc.preview({ untagged }),
    'gc:run': async ({ untagged }) => {
      let last = 0
      return core.gc.run({
        untagged,
        onProgress: (progress) => {
          // at most ten progress messages a second reach the window
          const now = Date.now()
          if (now - last < 100 && progress.phase !== 'done') return
          last = now
          live.publish({ type: 'gc-progress', progress })
        },
      })
    },
    'gc:history': async () => core.gc.history(),
    'webhooks:list': async () => webhooksView(),
    'webhooks:add': async ({ name, url, actions, headers, timeoutMs }) => {
      store.webhooks.add({ name: name.trim(), url: url.trim(), actions, headers, timeoutMs })
      live.publish({ type: 'changed', area: 'webhooks' })
      return webhooksView()
    },
    'webhooks:remove': async ({ name }) => {
      if (!store.webhooks.remove(name)) throw new Error(`no webhook named ${name}`)
      live.publish({ type: 'changed', area: 'webhooks' })
      return webhooksView()
    },
    'webhooks:test': async ({ name }) => {
      const { status, error, ms } = await new WebhookDispatcher(store.webhooks, berth.metrics).test(name)
      return { status, error, ms }
    },
    'webhooks:deliveries': async ({ name }) => store.webhooks.deliveries(name, 100),
    'retention:list': async () => retentionView(),
    'retention:set': async ({ prefix, keepLast, keepMatching, dropOlderThan }) => {
      store.retention.set({ prefix, keepLast, keepMatching: keepMatching?.trim() || null, dropOlderThanMs: dropOlderThan ? parseDuration(dropOlderThan) : null })
      live.publish({ type: 'changed', area: 'retention' })
      return retentionView()
    },
    'retention:remove': async ({ prefix }) => {
      if (!store.retention.remove(prefix)) throw new Error(`no retention rule for ${prefix}`)
      live.publish({ type: 'changed', area: 'retention' })
      return retentionView()
    },
    'trust:matrix': async () => trust.matrix(),
    'trust:install': async ({ targets }) => {
      const matrix = await trust.apply(targets, 'install')
      live.publish({ type: 'changed', area: 'trust' })
      return matrix
    },
    'trust:uninstall': async ({ targets }) => {
      const matrix = await trust.apply(targets, 'uninstall')
      live.publish({ type: 'changed', area: 'trust' })
      return matrix
    },
    'trust:doctor': async ({ target }) => trust.doctor(target),
    'trust:commands': async ({ targets, action }) => trust.commands(targets, action),
    'certificates:get': certificates,
    'certificates:addName': async ({ name }) => {
      const wanted = name.trim().toLowerCase()
      if (!wanted) throw new Error('type a host name or an IP address')
      await berth.updateSettings({ hostNames: [...berth.settings().hostNames, wanted] })
      live.publish({ type: 'changed', area: 'certificates' })
      return certificates()
    },
    'clients:list': async () => (await core.pki()).listClients(),
    'clients:issue': async ({ name }) => {
      const label = name.trim()
      if (!/^[\w.@-]{1,64}$/.test(label)) throw new Error('a client certificate name is 1 to 64 letters, digits, _ . @ or -')
      const pki = await core.pki()
      const issued = pki.issueClient(label)
      const mtls = berth.listeners.find((l) => l.kind === 'mtls')
      const folder = mtls ? clientAddress(mtls.host, mtls.port) : 'berth'
      const bundle = await certsDirBundle(folder, [
        { name: 'ca.crt', content: pki.trustAnchorPem, mode: 0o644 },
        { name: 'client.cert', content: issued.certPem, mode: 0o644 },
        { name: 'client.key', content: issued.keyPem, mode: 0o600 },
      ])
      live.publish({ type: 'changed', area: 'certificates' })
      return { serial: issued.serial.toLowerCase(), filename: `berth-client-${label}.tar.gz`, base64: bundle.toString('base64') }
    },
    'clients:revoke': async ({ serial }) => {
      const revoked = (await core.pki()).revoke(serial)
      if (revoked.length === 0) throw new Error(`no valid client certificate ${serial}`)
      live.publish({ type: 'changed', area: 'certificates' })
      return { revoked }
    },
    'users:list': async () => users(),
    'users:add': async ({ name, password }) => {
      core.users.add(name, password)
      live.publish({ type: 'changed', area: 'users' })
      return users()
    },
    'users:remove': async ({ name }) => {
      if (!core.users.remove(name)) throw new Error(`no user ${name}`)
      live.publish({ type: 'changed', area: 'users' })
      return users()
    },
    'access:get': async () => accessView(),
    'access:grant': async ({ who, actions, prefix }) => (core.rules.grant(who, parseActions(actions), prefix), accessChanged()),
    'access:revoke': async ({ who, actions, prefix }) => {
      if (core.rules.revoke(who, parseActions(actions), prefix) === 0) throw new Error(`no such grant: ${who} ${actions} ${prefix}`)
      return accessChanged()
    },
    'access:check': async ({ who, action, repository }) => decide(core.rules, core.robots, parseIdentity(who), parseActions(action)[0], repository),
    'groups:add': async ({ name, members }) => (core.groups.add(name, members ?? []), accessChanged()),
    'groups:remove': async ({ name }) => (core.groups.remove(name), accessChanged()),
    'groups:member': async ({ team, user, add }) => (add ? core.groups.addMember(team, user) : core.groups.removeMember(team, user), accessChanged()),
    'tokens:create': async ({ name, scopes, expiresInDays }) => {
      const expiresAt = expiresInDays ? Date.now() + expiresInDays * 86_400_000 : null
      const token = core.robots.create(name, scopes.map(parseRobotScope), expiresAt)
      return { token, access: accessChanged() }
    },
    'tokens:revoke': async ({ name }) => {
      if (!core.robots.revoke(name)) throw new Error(`no valid token ${name}`)
      return accessChanged()
    },
    'settings:get': async () => settingsView(),
    'settings:update': async ({ confirmOpenWrites, ...patch }) => {
      await berth.updateSettings(patch, { confirmOpenWrites })
      live.publish({ type: 'changed', area: 'settings' })
      return settingsView()
    },
    'app:restart': async () => {
      if (!berth.restart) throw new Error('restart berth serve yourself to apply listener changes (Ctrl-C, then run it again)')
      setTimeout(berth.restart, 100)
      return { restarting: true }
    },
    'activity:recent': async ({ limit }) => store.events.recent(Math.min(Math.max(limit ?? 100, 1), 1000)).map(activity),
  }

  return {
    handlers,
    live,
    async call(channel, args) {
      if (!Object.hasOwn(handlers, channel)) throw new Error(`unknown admin operation ${JSON.stringify(channel)}`)
      const handler = handlers[channel as Channel] as (args: unknown) => Promise<unknown>
      return handler(args && typeof args === 'object' ? args : {})
    },
    close: () => live.close(),
  }
}

/** How clients write a listener's address: loopback as localhost, IPv6 in brackets. */
export function clientAddress(host: string, port: number): string {
  if (isLoopbackHost(host)) return `localhost:${port}`
  return formatAuthority(host, port)
}

/** First-push and pull commands for one endpoint; podman's form follows whether it trusts Berth's CA. */
function endpointCommands(kind: string, address: string, writes: string, podmanTrusts: boolean): EndpointView['commands'] {
  const image = `${address}/hello:dev`
  const commands: EndpointView['commands'] = []
  if (kind === 'mtls') {
    // docker never sends a client certificate to a loopback registry (trust/quirks.ts): podman and skopeo only
    const first = podmanTrusts ? '' : ' (after installing trust for podman)'
    commands.push({ label: `push with podman${first}`, command: `podman push hello:dev ${image}` })
    commands.push({ label: `copy with skopeo${first}`, command: `skopeo copy containers-storage:localhost/hello:dev docker://${image}` })
    commands.push({ label: 'pull', command: `podman pull ${image}` })
    return commands
  }
  if (writes === 'users') commands.push({ label: 'log in', command: `docker login ${address}` })
  if (writes !== 'off') {
    commands.push({ label: 'push with docker', command: `docker tag hello:dev ${image} && docker push ${image}` })
    // plain HTTP, or TLS podman does not trust yet: it must be told not to verify
    const insecure = kind === 'http' || !podmanTrusts
    commands.push({ label: insecure && kind !== 'http' ? 'push with podman (until trust is installed)' : 'push with podman', command: `podman push${insecure ? ' --tls-verify=false' : ''} hello:dev ${image}` })
  }
  commands.push({ label: 'pull', command: `${kind === 'http' ? 'podman pull --tls-verify=false' : 'docker pull'} ${image}` })
  return commands
}

export type { AdminContract }
