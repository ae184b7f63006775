// berth trust status|install|uninstall|doctor
import { resolve } from 'node:path'
import { DEFAULT_HTTPS, DEFAULT_MTLS } from '../listeners'
import { parseListenAddress, resolveDataDir } from '../config'
import { clientEndpoints } from '../trust/endpoints'
import { diagnose } from '../trust/doctor'
import { describePlan } from '../trust/plan'
import { applyTrustPlan, detectTargets, findTarget, parseTargets, planInstall, planUninstall, trustStatus, type TrustResult } from '../trust/service'
import { TARGET_IDS, trustEnvironment, type Endpoint } from '../trust/targets'
import { operate } from './operate'
import { out, parseFlags, UsageError, type Command } from './usage'

export const trustCommand: Command = {
  name: 'trust',
  summary: "install Berth's CA where docker, podman, containerd and the system look",
  help: `usage: berth trust status|install|uninstall|doctor [--target T,T|all] [--endpoint HOST:PORT ...]
                   [--root DIR] [--dry-run] [--json] [--data-dir DIR]

targets: ${TARGET_IDS.join(', ')}, or all
(default: the clients found on this machine, or under --root; the others are named as skipped)

  --endpoint HOST:PORT  the registry address clients use (repeatable); default: the running
                        TLS and mTLS listeners under localhost and 127.0.0.1
  --root DIR            treat DIR as / for system paths (home paths follow $HOME)
  --dry-run             print every file and command, change nothing
  --json                one object per target and endpoint

For the mTLS endpoint the folder also gets client.cert and client.key of a client
certificate issued for that target; a reinstall replaces a revoked or expired one, and
uninstall revokes the certificates trust had issued. Writes that need root go through pkexec or sudo
(osascript on macOS), which show what they will do. doctor opens a TLS connection with
exactly the files each client would read and says what is wrong and how to fix it.
Exit 0 when every asked target ends installed (uninstalled; for status and doctor: installed
and passing), 1 otherwise.`,

  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        'data-dir': { type: 'string' },
        target: { type: 'string' },
        endpoint: { type: 'string', multiple: true },
        root: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      true,
    )
    const [action] = positionals
    if (values.help || action === undefined) {
      out(this.help)
      return action === undefined && !values.help ? 2 : 0
    }
    if (!['status', 'install', 'uninstall', 'doctor'].includes(action)) {
      throw new UsageError(`unknown trust action ${JSON.stringify(action)} (status, install, uninstall, doctor)`)
    }
    let targets
    try {
      targets = parseTargets(values.target)
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
    const dataDir = resolveDataDir(values['data-dir'])
    const ca = await operate(dataDir, 'cert.ca', {})
    const env = trustEnvironment(ca.pem, ca.clientCaPem, values.root ? resolve(values.root) : '/', await operate(dataDir, 'cert.list', {}))
    const endpoints = await resolveEndpoints(dataDir, values.endpoint)
    if (values.target === undefined) {
      const detected = detectTargets(env)
      for (const d of detected.filter((t) => !t.found)) process.stderr.write(`berth: skipped ${d.id}: ${d.why} (--target ${d.id} or --target all to include it)\n`)
      targets = detected.filter((t) => t.found).map((t) => t.id)
      if (targets.length === 0) {
        process.stderr.write('berth: no container client found; name one with --target\n')
        return 1
      }
    }
    const dryRun = Boolean(values['dry-run'])

    if (action === 'doctor') {
      const diagnoses = []
      for (const id of targets) for (const endpoint of endpoints) diagnoses.push(await diagnose(findTarget(id), env, endpoint))
      if (values.json) out(JSON.stringify(diagnoses, null, 2))
      else for (const d of diagnoses) out(`${d.ok ? 'PASS' : 'FAIL'}  ${d.target.padEnd(16)} ${d.endpoint.padEnd(22)} ${d.reason}${d.fix ? `\n      fix: ${d.fix}` : ''}`)
      return diagnoses.every((d) => d.ok) ? 0 : 1
    }

    if (action === 'install' || action === 'uninstall') {
      const plan =
        action === 'install'
          ? await planInstall(env, targets, endpoints, async (target) =>
              dryRun ? { certPem: '', keyPem: '' } : operate(dataDir, 'cert.client', { name: `trust-${target}` }),
            )
          : planUninstall(env, targets, endpoints)
      if (!values.json) for (const line of describePlan(plan)) out(`berth: ${dryRun ? 'would ' : ''}${line}`)
      if (dryRun) {
        if (values.json) out(JSON.stringify({ plan: describePlan(plan), status: trustStatus(env, targets, endpoints) }, null, 2))
        return 0
      }
      const revoked = await applyTrustPlan(plan, env, endpoints, (serial) => operate(dataDir, 'cert.revoke', { target: serial }), {
        log: (line) => process.stderr.write(`${line}\n`),
      })
      for (const serial of revoked) if (!values.json) out(`berth: revoked client certificate ${serial} (no trust folder uses it any more)`)
    }

    const after = action === 'status' ? env : trustEnvironment(ca.pem, ca.clientCaPem, env.root, await operate(dataDir, 'cert.list', {}))
    const results = trustStatus(after, targets, endpoints)
    printResults(results, Boolean(values.json))
    const wanted = action === 'uninstall' ? 'missing' : 'installed'
    return results.every((r) => r.state === wanted) ? 0 : 1
  },
}

function printResults(results: TrustResult[], json: boolean): void {
  if (json) return out(JSON.stringify(results, null, 2))
  for (const r of results) out(`${r.target.padEnd(16)} ${r.endpoint.padEnd(22)} ${r.state.padEnd(9)} ${r.location}`)
}

/** --endpoint values, else the running TLS and mTLS listeners under the names clients use. */
async function resolveEndpoints(dataDir: string, flags: string[] | undefined): Promise<Endpoint[]> {
  const status = await operate(dataDir, 'status', {})
  const running = status.listeners.filter((l) => l.kind === 'https' || l.kind === 'mtls')
  const listeners = running.length
    ? running
    : [
        { kind: 'https', ...DEFAULT_HTTPS },
        { kind: 'mtls', ...DEFAULT_MTLS },
      ]
  const mtlsPorts = new Set(listeners.filter((l) => l.kind === 'mtls').map((l) => l.port))
  if (flags?.length) {
    return flags.map((flag) => {
      const address = parseListenAddress(flag)
      if (!address) throw new UsageError('--endpoint takes HOST:PORT')
      return { ...address, mtls: mtlsPorts.has(address.port) }
    })
  }
  return clientEndpoints(listeners, status.serverNames)
}
