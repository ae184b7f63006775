// The operating system's trust store, each with its own tool: Debian/Ubuntu
// (update-ca-certificates), Fedora/RHEL (update-ca-trust), macOS (security), Windows (certutil).
// It trusts the CA once, for every endpoint.
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { emptyPlan, type TrustPlan } from './plan'
import { sameCertificate, systemPath, type TrustEnvironment, type TrustState, type TrustTarget } from './targets'

export class TrustError extends Error {}

const ANCHOR_NAME = 'berth-local-ca.crt'
/** Where any Linux flavor keeps Berth's anchor: uninstall removes whichever exists. */
const LINUX_ANCHORS = [`/usr/local/share/ca-certificates/${ANCHOR_NAME}`, `/etc/pki/ca-trust/source/anchors/${ANCHOR_NAME}`]
const MAC_KEYCHAIN = '/Library/Keychains/System.keychain'

interface Flavor {
  name: string
  /** the file the CA is written to (real path, before --root) */
  anchor: string
  /** the bundle the update command produces; clients that use the system store read it */
  bundle?: string
  install: (file: string, env: TrustEnvironment) => string[][]
  uninstall: (env: TrustEnvironment) => string[][]
  /** keychains and Windows stores are asked, not read as files */
  status?: (env: TrustEnvironment) => TrustState
}

function flavor(env: TrustEnvironment): Flavor | undefined {
  if (env.platform === 'darwin') {
    return {
      name: 'macOS System keychain',
      anchor: join(env.home, 'Library', 'Application Support', 'Berth', ANCHOR_NAME),
      install: (file) => [['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', MAC_KEYCHAIN, file]],
      uninstall: (e) => [['security', 'delete-certificate', '-Z', sha1(e.caPem), MAC_KEYCHAIN]],
      status: (e) => (commandSucceeds(['security', 'find-certificate', '-Z', '-a', MAC_KEYCHAIN], sha1(e.caPem)) ? 'installed' : 'missing'),
    }
  }
  if (env.platform === 'win32') {
    return {
      name: 'Windows Trusted Root store',
      anchor: join(env.home, 'AppData', 'Local', 'Berth', ANCHOR_NAME),
      install: (file) => [['certutil', '-addstore', '-f', 'Root', file]],
      uninstall: (e) => [['certutil', '-delstore', 'Root', new X509Certificate(e.caPem).serialNumber]],
      status: (e) => (commandSucceeds(['certutil', '-store', 'Root', new X509Certificate(e.caPem).serialNumber]) ? 'installed' : 'missing'),
    }
  }
  // under --root, only the system inside that root decides: a root without a known store has none
  const marker = (path: string) => existsSync(systemPath(env, path))
  if (marker('/etc/debian_version') || marker('/usr/sbin/update-ca-certificates')) {
    return {
      name: 'Debian/Ubuntu ca-certificates',
      anchor: `/usr/local/share/ca-certificates/${ANCHOR_NAME}`,
      bundle: '/etc/ssl/certs/ca-certificates.crt',
      install: () => [['update-ca-certificates']],
      uninstall: () => [['update-ca-certificates', '--fresh']],
    }
  }
  if (marker('/etc/pki/ca-trust')) {
    return {
      name: 'Fedora/RHEL ca-trust',
      anchor: `/etc/pki/ca-trust/source/anchors/${ANCHOR_NAME}`,
      bundle: '/etc/pki/tls/certs/ca-bundle.crt',
      install: () => [['update-ca-trust', 'extract']],
      uninstall: () => [['update-ca-trust', 'extract']],
    }
  }
  return undefined
}

function sha1(pem: string): string {
  return new X509Certificate(pem).fingerprint.replace(/:/g, '')
}

function commandSucceeds(argv: string[], expectInOutput?: string): boolean {
  try {
    const output = execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    return expectInOutput === undefined || output.toUpperCase().includes(expectInOutput.toUpperCase())
  } catch {
    return false
  }
}

/** On Linux the anchor lives under --root; on macOS/Windows it is a file in the user's home. */
function anchorPath(env: TrustEnvironment, f: Flavor): string {
  return env.platform === 'linux' ? systemPath(env, f.anchor) : f.anchor
}

/** Commands change the running system: they run only when --root is / itself. */
function commandsFor(env: TrustEnvironment, commands: string[][]): Pick<TrustPlan, 'commands' | 'skippedCommands'> {
  return env.root === '/' ? { commands, skippedCommands: [] } : { commands: [], skippedCommands: commands }
}

export const systemTarget: TrustTarget = {
  id: 'system',
  label: 'System trust store',
  perEndpoint: false,
  location(env) {
    const f = flavor(env)
    return f ? `${f.name}: ${anchorPath(env, f)}` : 'no known system trust store'
  },
  trustFiles(env) {
    const f = flavor(env)
    return f?.bundle ? { ca: systemPath(env, f.bundle) } : {}
  },
  status(env) {
    const f = flavor(env)
    if (!f) return 'missing'
    if (f.status) return f.status(env)
    const same = sameCertificate(anchorPath(env, f), env.caPem)
    return same === undefined ? 'missing' : same ? 'installed' : 'outdated'
  },
  install(env) {
    const f = flavor(env)
    if (!f) throw new TrustError(`no known system trust store ${env.root === '/' ? `on this ${env.platform} system` : `under ${env.root}`}`)
    const file = anchorPath(env, f)
    return { ...emptyPlan(), writes: [{ path: file, content: env.caPem, mode: 0o644 }], ...commandsFor(env, f.install(f.anchor, env)) }
  },
  uninstall(env) {
    const f = flavor(env)
    const anchors = env.platform === 'linux' ? LINUX_ANCHORS.map((path) => systemPath(env, path)) : f ? [anchorPath(env, f)] : []
    const removes = anchors.filter((path) => existsSync(path))
    if (!f) return { ...emptyPlan(), removes }
    return { ...emptyPlan(), removes, ...commandsFor(env, f.uninstall(env)) }
  },
}

/** Whether this system (or the one under --root) has a trust store Berth knows. */
export function hasSystemStore(env: TrustEnvironment): boolean {
  return flavor(env) !== undefined
}
