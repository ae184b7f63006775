// Trust as the GUI sees it: the matrix of target × endpoint, installs and uninstalls (through
// the same plans and elevation helper as `berth trust`), the doctor, and the exact commands.
import type { Berth } from '../berth'
import { clientEndpoints } from '../trust/endpoints'
import { diagnose } from '../trust/doctor'
import { describePlan } from '../trust/plan'
import { applyTrustPlan, findTarget, parseTargets, planInstall, planUninstall, TARGETS, trustStatus } from '../trust/service'
import { endpointFolder, trustEnvironment, type Endpoint, type TargetId, type TrustEnvironment } from '../trust/targets'
import { clientQuirk } from '../trust/quirks'
import type { Diagnosis, TrustMatrix } from './contract'

const ROOT_TARGETS = new Set<TargetId>(['docker', 'podman', 'containerd', 'system'])

/** Which clients exist on a platform: Docker Desktop on macOS and Windows, the rest on Linux. */
export function targetApplies(id: TargetId, platform: NodeJS.Platform): boolean {
  if (id === 'system') return true
  if (platform === 'linux') return id !== 'docker-desktop'
  return id === 'docker-desktop'
}

export class TrustView {
  constructor(
    private readonly berth: Berth,
    private readonly root = '/',
  ) {}

  async environment(): Promise<TrustEnvironment> {
    const pki = await this.berth.core.pki()
    return trustEnvironment(pki.trustAnchorPem, pki.clientCa.certPem, this.root, pki.listClients())
  }

  async endpoints(): Promise<Endpoint[]> {
    const pki = await this.berth.core.pki()
    return clientEndpoints(this.berth.listeners, pki.serverInfo().names)
  }

  async matrix(): Promise<TrustMatrix> {
    const env = await this.environment()
    const endpoints = await this.endpoints()
    return {
      root: env.root,
      targets: TARGETS.map((t) => ({ id: t.id, label: t.label, needsRoot: ROOT_TARGETS.has(t.id), applies: targetApplies(t.id, env.platform) })),
      endpoints: endpoints.map((e) => ({ address: endpointFolder(e), mtls: e.mtls })),
      cells: trustStatus(env, TARGETS.map((t) => t.id), endpoints).map((r) => {
        const endpoint = endpoints.find((e) => endpointFolder(e) === r.endpoint)
        const ignores = endpoint ? clientQuirk(r.target, endpoint) : undefined
        return { target: r.target, endpoint: r.endpoint, state: r.state, location: r.location, ...(ignores ? { clientIgnores: ignores } : {}) }
      }),
    }
  }

  /** From a matrix already read, or a fresh one. */
  async summary(matrix?: TrustMatrix): Promise<{ installed: number; total: number; attention: string[] }> {
    matrix ??= await this.matrix()
    const applicable = new Set(matrix.targets.filter((t) => t.applies).map((t) => t.id))
    const cells = matrix.cells.filter((c) => applicable.has(c.target) && !c.clientIgnores)
    return {
      installed: cells.filter((c) => c.state === 'installed').length,
      total: cells.length,
      attention: [...new Set(cells.filter((c) => c.state !== 'installed').map((c) => c.target))],
    }
  }

  async plan(targets: string[], action: 'install' | 'uninstall', dryRun: boolean, env?: TrustEnvironment) {
    const ids = this.targets(targets)
    env ??= await this.environment()
    const endpoints = await this.endpoints()
    if (action === 'uninstall') return planUninstall(env, ids, endpoints)
    const pki = await this.berth.core.pki()
    return planInstall(env, ids, endpoints, async (target) => (dryRun ? { certPem: '', keyPem: '' } : pki.issueClient(`trust-${target}`)))
  }

  async commands(targets: string[], action: 'install' | 'uninstall'): Promise<string[]> {
    const lines = describePlan(await this.plan(targets, action, true))
    return lines.length ? lines : [`nothing to do: already ${action === 'install' ? 'installed' : 'removed'}`]
  }

  async apply(targets: string[], action: 'install' | 'uninstall'): Promise<TrustMatrix> {
    const env = await this.environment()
    const pki = await this.berth.core.pki()
    const plan = await this.plan(targets, action, false, env)
    await applyTrustPlan(plan, env, await this.endpoints(), async (serial) => pki.revoke(serial), { log: () => {} })
    return this.matrix()
  }

  async doctor(target: string): Promise<Diagnosis[]> {
    const [id] = this.targets([target])
    const env = await this.environment()
    const results: Diagnosis[] = []
    for (const endpoint of await this.endpoints()) results.push(await diagnose(findTarget(id), env, endpoint))
    return results
  }

  private targets(ids: string[]): TargetId[] {
    if (ids.length === 0) throw new Error('choose at least one trust target')
    return parseTargets(ids.join(','))
  }
}
