// Trust for every target × endpoint: status, install and uninstall plans, and their results.
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { applyPlan, mergePlans, type TrustPlan } from './plan'
import { hasSystemStore, systemTarget } from './system-store'
import {
  certificateSerial,
  certsDirTargets,
  endpointFolder,
  systemPath,
  TARGET_IDS,
  type ClientCredentials,
  type Endpoint,
  type TargetId,
  type TrustEnvironment,
  type TrustState,
  type TrustTarget,
} from './targets'

export const TARGETS: TrustTarget[] = [...certsDirTargets, systemTarget]

export function findTarget(id: TargetId): TrustTarget {
  return TARGETS.find((t) => t.id === id)!
}

/** `all`, or a comma-separated list; undefined for none given (callers then detect). */
export function parseTargets(text: string | undefined): TargetId[] {
  if (text === undefined || text === 'all') return [...TARGET_IDS]
  const ids = text.split(',').map((t) => t.trim())
  const unknown = ids.filter((id) => !(TARGET_IDS as string[]).includes(id))
  if (unknown.length) throw new Error(`unknown trust target ${unknown.join(', ')} (known: ${TARGET_IDS.join(', ')}, all)`)
  return ids as TargetId[]
}

export interface DetectedTarget {
  id: TargetId
  found: boolean
  /** what was found, or what was looked for */
  why: string
}

/**
 * Which clients this machine (or the system under --root) has: their programs on PATH, or
 * their configuration folders. `trust install` with no --target writes only for these.
 */
export function detectTargets(env: TrustEnvironment): DetectedTarget[] {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
  const program = (...names: string[]) =>
    names.find((name) => pathDirs.some((dir) => existsSync(systemPath(env, join(dir, name)))))
  const folder = (path: string) => (existsSync(systemPath(env, path)) ? path : undefined)
  const linux = env.platform === 'linux'
  const rootUser = env.root === '/' && process.getuid?.() === 0
  const found = (id: TargetId, what: string | undefined, lookedFor: string): DetectedTarget =>
    what ? { id, found: true, why: `found ${what}` } : { id, found: false, why: `no ${lookedFor}` }
  const podmanTools = linux ? program('podman', 'skopeo', 'buildah') : undefined
  const dockerDesktop = linux ? folder(join(env.home, '.docker', 'desktop')) : existsSync(join(env.home, '.docker')) ? join(env.home, '.docker') : undefined
  return [
    found('docker', linux ? (program('dockerd', 'docker') ?? folder('/etc/docker')) : undefined, linux ? 'docker or dockerd on PATH, no /etc/docker' : 'Docker Engine (Linux only)'),
    found('docker-desktop', env.platform === 'win32' || env.platform === 'darwin' || dockerDesktop ? dockerDesktop : undefined, `${join(env.home, '.docker')}${linux ? '/desktop' : ''}`),
    found('podman', podmanTools ?? (linux ? folder('/etc/containers') : undefined), 'podman, skopeo or buildah on PATH, no /etc/containers'),
    rootUser
      ? { id: 'podman-rootless', found: false, why: 'running as root: podman reads /etc/containers/certs.d (target podman)' }
      : found('podman-rootless', podmanTools, 'podman, skopeo or buildah on PATH'),
    found('containerd', linux ? (program('containerd', 'ctr', 'nerdctl') ?? folder('/etc/containerd')) : undefined, 'containerd, ctr or nerdctl on PATH, no /etc/containerd'),
    found('system', hasSystemStore(env) ? 'a system trust store' : undefined, 'known system trust store'),
  ]
}

export interface TrustResult {
  target: TargetId
  /** HOST:PORT, or * for the system store (it trusts the CA for every endpoint) */
  endpoint: string
  state: TrustState
  location: string
  files: string[]
}

/** Each target once per endpoint it applies to (the system store once). */
export function trustPairs(targets: TargetId[], endpoints: Endpoint[]): { target: TrustTarget; endpoint?: Endpoint }[] {
  return targets.flatMap((id): { target: TrustTarget; endpoint?: Endpoint }[] => {
    const target = findTarget(id)
    return target.perEndpoint ? endpoints.map((endpoint) => ({ target, endpoint })) : [{ target, endpoint: undefined }]
  })
}

export function trustStatus(env: TrustEnvironment, targets: TargetId[], endpoints: Endpoint[]): TrustResult[] {
  return trustPairs(targets, endpoints).map(({ target, endpoint }) => {
    const files = Object.values(target.trustFiles(env, endpoint)).filter((f): f is string => Boolean(f) && existsSync(f!))
    return {
      target: target.id,
      endpoint: endpoint ? endpointFolder(endpoint) : '*',
      state: target.status(env, endpoint),
      location: target.location(env, endpoint),
      files,
    }
  })
}

/**
 * The plan that installs trust wherever it is not installed yet. `clientFor` supplies a client
 * certificate for a target's mTLS endpoints (one per target, shared by its endpoints).
 */
export async function planInstall(
  env: TrustEnvironment,
  targets: TargetId[],
  endpoints: Endpoint[],
  clientFor: (target: TargetId) => Promise<ClientCredentials>,
): Promise<TrustPlan> {
  const clients = new Map<TargetId, ClientCredentials>()
  const plans: TrustPlan[] = []
  for (const { target, endpoint } of trustPairs(targets, endpoints)) {
    if (target.status(env, endpoint) === 'installed') continue
    let client: ClientCredentials | undefined
    if (endpoint?.mtls) {
      if (!clients.has(target.id)) clients.set(target.id, await clientFor(target.id))
      client = clients.get(target.id)
    }
    plans.push(target.install(env, endpoint, client))
  }
  return mergePlans(plans)
}

export function planUninstall(env: TrustEnvironment, targets: TargetId[], endpoints: Endpoint[]): TrustPlan {
  return mergePlans(trustPairs(targets, endpoints).map(({ target, endpoint }) => target.uninstall(env, endpoint)))
}

/** The client certificates that trust folders hold now (lowercase serials), for every target. */
export function installedClientSerials(env: TrustEnvironment, endpoints: Endpoint[]): Set<string> {
  const serials = new Set<string>()
  for (const { target, endpoint } of trustPairs([...TARGET_IDS], endpoints.filter((e) => e.mtls))) {
    const cert = target.trustFiles(env, endpoint).clientCert
    const serial = cert && existsSync(cert) ? certificateSerial(cert) : undefined
    if (serial) serials.add(serial)
  }
  return serials
}

/**
 * Applies an install or uninstall plan, then revokes the client certificates that trust had
 * issued (named trust-*) and that no trust folder holds any more: the ones an uninstall removed
 * and the ones a reinstall replaced. Returns the serials it revoked.
 */
export async function applyTrustPlan(
  plan: TrustPlan,
  env: TrustEnvironment,
  endpoints: Endpoint[],
  revoke: (serial: string) => Promise<unknown>,
  options: { log?: (line: string) => void } = {},
): Promise<string[]> {
  const before = installedClientSerials(env, endpoints)
  await applyPlan(plan, options)
  const after = installedClientSerials(env, endpoints)
  const retired = [...before].filter((serial) => !after.has(serial) && env.clientCertificates.get(serial)?.name.startsWith('trust-') && env.clientCertificates.get(serial)?.state === 'valid')
  for (const serial of retired) await revoke(serial)
  return retired
}
