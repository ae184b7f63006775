// Where each container client reads the certificates it trusts, one target per client, all
// behind one small interface. Paths follow each client's rules exactly:
//   certs.d/HOST:PORT/ca.crt        a CA (any *.crt file is read as one)
//   certs.d/HOST:PORT/client.cert   + client.key: the client certificate for mTLS
//   containerd: certs.d/HOST:PORT/hosts.toml naming ca and client
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { emptyPlan, type TrustPlan } from './plan'

export type TargetId = 'docker' | 'docker-desktop' | 'podman' | 'podman-rootless' | 'containerd' | 'system'
export const TARGET_IDS: TargetId[] = ['docker', 'docker-desktop', 'podman', 'podman-rootless', 'containerd', 'system']

export interface Endpoint {
  host: string
  port: number
  /** the mTLS listener: clients also need a client certificate */
  mtls: boolean
}

export type TrustState = 'installed' | 'outdated' | 'missing'

export type ClientCertificateState = 'valid' | 'revoked' | 'expired'

export interface TrustEnvironment {
  /** treated as / for system paths (tests, a VM's filesystem) */
  root: string
  /** home paths follow $HOME */
  home: string
  platform: NodeJS.Platform
  caPem: string
  clientCaPem: string
  /** the state of each client certificate Berth issued, by lowercase serial */
  clientCertificates: ReadonlyMap<string, { name: string; state: ClientCertificateState }>
}

export interface ClientCredentials {
  certPem: string
  keyPem: string
}

export interface TrustTarget {
  id: TargetId
  label: string
  /** false for the system store, which trusts the CA once for every endpoint */
  perEndpoint: boolean
  /** the folder or file a client reads, for display */
  location(env: TrustEnvironment, endpoint?: Endpoint): string
  /** the CA file, and client certificate files for mTLS, exactly as the client reads them */
  trustFiles(env: TrustEnvironment, endpoint?: Endpoint): { ca?: string; clientCert?: string; clientKey?: string }
  status(env: TrustEnvironment, endpoint?: Endpoint): TrustState
  install(env: TrustEnvironment, endpoint: Endpoint | undefined, client?: ClientCredentials): TrustPlan
  uninstall(env: TrustEnvironment, endpoint?: Endpoint): TrustPlan
}

/** This machine's environment: home from $HOME, system paths under `root`. */
export function trustEnvironment(
  caPem: string,
  clientCaPem: string,
  root = '/',
  clients: { serial: string; name: string; state: ClientCertificateState }[] = [],
): TrustEnvironment {
  const clientCertificates = new Map(clients.map((c) => [c.serial.toLowerCase(), { name: c.name, state: c.state }]))
  return { root, home: process.env.HOME || homedir(), platform: process.platform, caPem, clientCaPem, clientCertificates }
}

/** The serial (lowercase hex) of the certificate in a PEM file, or undefined. */
export function certificateSerial(path: string): string | undefined {
  try {
    return new X509Certificate(readFileSync(path)).serialNumber.toLowerCase()
  } catch {
    return undefined
  }
}

/** A system path under --root. */
export function systemPath(env: TrustEnvironment, path: string): string {
  return env.root === '/' ? path : join(env.root, path)
}

/** The folder name clients look up: HOST:PORT (HOST alone for 443), IPv6 in brackets. */
export function endpointFolder(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
  return endpoint.port === 443 ? host : `${host}:${endpoint.port}`
}

export function sameCertificate(path: string, pem: string): boolean | undefined {
  if (!existsSync(path)) return undefined
  try {
    return new X509Certificate(readFileSync(path)).fingerprint256 === new X509Certificate(pem).fingerprint256
  } catch {
    return false
  }
}

function issuedBy(path: string, caPem: string): boolean {
  try {
    return new X509Certificate(readFileSync(path)).checkIssued(new X509Certificate(caPem))
  } catch {
    return false
  }
}

/** installed when the CA matches (and for mTLS a client certificate from our client CA is there). */
function folderState(env: TrustEnvironment, files: { ca?: string; clientCert?: string; clientKey?: string }, mtls: boolean): TrustState {
  const ca = files.ca ? sameCertificate(files.ca, env.caPem) : undefined
  if (ca === undefined) return 'missing'
  if (!ca) return 'outdated'
  if (mtls) {
    if (!files.clientCert || !files.clientKey || !existsSync(files.clientKey)) return 'outdated'
    if (!issuedBy(files.clientCert, env.clientCaPem)) return 'outdated'
    // a revoked or expired certificate is refused at the handshake: reinstalling replaces it
    const serial = certificateSerial(files.clientCert)
    if (!serial || env.clientCertificates.get(serial)?.state !== 'valid') return 'outdated'
  }
  return 'installed'
}

/** docker, docker-desktop, podman, podman-rootless: a certs.d folder per endpoint. */
function certsDirTarget(id: TargetId, label: string, base: (env: TrustEnvironment) => string): TrustTarget {
  const folder = (env: TrustEnvironment, endpoint?: Endpoint) => join(base(env), endpointFolder(endpoint!))
  const files = (env: TrustEnvironment, endpoint?: Endpoint) => {
    const dir = folder(env, endpoint)
    return endpoint?.mtls
      ? { ca: join(dir, 'ca.crt'), clientCert: join(dir, 'client.cert'), clientKey: join(dir, 'client.key') }
      : { ca: join(dir, 'ca.crt') }
  }
  return {
    id,
    label,
    perEndpoint: true,
    location: folder,
    trustFiles: files,
    status: (env, endpoint) => folderState(env, files(env, endpoint), Boolean(endpoint?.mtls)),
    install(env, endpoint, client) {
      const dir = folder(env, endpoint)
      const plan = emptyPlan()
      plan.writes.push({ path: join(dir, 'ca.crt'), content: env.caPem, mode: 0o644 })
      if (endpoint?.mtls && client) {
        plan.writes.push({ path: join(dir, 'client.cert'), content: client.certPem, mode: 0o644 })
        plan.writes.push({ path: join(dir, 'client.key'), content: client.keyPem, mode: 0o600 })
      }
      return plan
    },
    uninstall(env, endpoint) {
      const dir = folder(env, endpoint)
      const plan = emptyPlan()
      plan.removes.push(...['ca.crt', 'client.cert', 'client.key'].map((f) => join(dir, f)).filter((p) => existsSync(p)))
      return plan
    },
  }
}

const containerdTarget: TrustTarget = (() => {
  const real = (endpoint: Endpoint) => join('/etc/containerd/certs.d', endpointFolder(endpoint))
  const files = (env: TrustEnvironment, endpoint?: Endpoint) => {
    const dir = systemPath(env, real(endpoint!))
    return endpoint?.mtls
      ? { ca: join(dir, 'ca.crt'), clientCert: join(dir, 'client.cert'), clientKey: join(dir, 'client.key') }
      : { ca: join(dir, 'ca.crt') }
  }
  return {
    id: 'containerd',
    label: 'containerd / nerdctl / kind',
    perEndpoint: true,
    location: (env, endpoint) => systemPath(env, real(endpoint!)),
    trustFiles: files,
    status(env, endpoint) {
      const state = folderState(env, files(env, endpoint), Boolean(endpoint?.mtls))
      const hosts = join(systemPath(env, real(endpoint!)), 'hosts.toml')
      return state === 'installed' && !existsSync(hosts) ? 'outdated' : state
    },
    install(env, endpoint, client) {
      const dir = real(endpoint!)
      const authority = endpointFolder(endpoint!)
      // Paths relative to the host folder: containerd resolves them against it, so the same
      // file works under --root, in a VM's filesystem, or with ctr --hosts-dir anywhere.
      const toml = [
        `# written by Berth: trust for https://${authority}`,
        `server = "https://${authority}"`,
        '',
        `[host."https://${authority}"]`,
        '  capabilities = ["pull", "resolve", "push"]',
        '  ca = "ca.crt"',
        ...(endpoint!.mtls ? ['  client = [["client.cert", "client.key"]]'] : []),
        '',
      ].join('\n')
      const plan = emptyPlan()
      plan.writes.push({ path: systemPath(env, `${dir}/ca.crt`), content: env.caPem, mode: 0o644 })
      if (endpoint!.mtls && client) {
        plan.writes.push({ path: systemPath(env, `${dir}/client.cert`), content: client.certPem, mode: 0o644 })
        plan.writes.push({ path: systemPath(env, `${dir}/client.key`), content: client.keyPem, mode: 0o600 })
      }
      plan.writes.push({ path: systemPath(env, `${dir}/hosts.toml`), content: toml, mode: 0o644 })
      return plan
    },
    uninstall(env, endpoint) {
      const dir = systemPath(env, real(endpoint!))
      const plan = emptyPlan()
      plan.removes.push(...['hosts.toml', 'ca.crt', 'client.cert', 'client.key'].map((f) => join(dir, f)).filter((p) => existsSync(p)))
      return plan
    },
  }
})()

export const certsDirTargets: TrustTarget[] = [
  certsDirTarget('docker', 'Docker Engine (Linux)', (env) => systemPath(env, '/etc/docker/certs.d')),
  certsDirTarget('docker-desktop', 'Docker Desktop (macOS / Windows)', (env) => join(env.home, '.docker', 'certs.d')),
  certsDirTarget('podman', 'Podman / Buildah / Skopeo (root)', (env) => systemPath(env, '/etc/containers/certs.d')),
  certsDirTarget('podman-rootless', 'Podman rootless', (env) => join(env.home, '.config', 'containers', 'certs.d')),
  containerdTarget,
]
