// Trust for every target × endpoint: status, install and uninstall plans, and their results.
import { existsSync } from 'node:fs'
import { mergePlans, type TrustPlan } from './plan'
import { systemTarget } from './system-store'
import {
  certsDirTargets,
  endpointFolder,
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

export function parseTargets(text: string | undefined): TargetId[] {
  if (text === undefined || text === 'all') return [...TARGET_IDS]
  const ids = text.split(',').map((t) => t.trim())
  const unknown = ids.filter((id) => !(TARGET_IDS as string[]).includes(id))
  if (unknown.length) throw new Error(`unknown trust target ${unknown.join(', ')} (known: ${TARGET_IDS.join(', ')}, all)`)
  return ids as TargetId[]
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
