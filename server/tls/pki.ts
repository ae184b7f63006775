// Berth's PKI under DATA_DIR/pki: a name-constrained CA for server certificates, a separate CA
// for client certificates (mTLS), and the server certificate, reissued when its names change
// and renewed before it expires. Private keys are written 0600.
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import {
  certificateInfo,
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  type IssuedCertificate,
  type KeyAndCertificate,
  canonicalName,
} from './certificates'
import { isPermittedName, LOCAL_DNS_SUFFIXES } from './name-constraints'
import { rememberedOwnCertificate, rememberOwnCertificate, type OwnCertificate } from './own-certificate'

const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000

export class NameNotPermittedError extends Error {}

export interface ClientCertificateRecord {
  serial: string
  name: string
  issuedAt: number
  notAfter: number
  revokedAt: number | null
  state: 'valid' | 'revoked' | 'expired'
}

/** The names clients use for a registry on this machine. */
export function defaultServerNames(): string[] {
  const host = hostname().toLowerCase()
  const names = ['localhost', '127.0.0.1', '::1', 'host.docker.internal']
  if (/^[a-z0-9-]+$/.test(host) && host !== 'localhost') names.push(host, `${host}.local`)
  return names
}

export class Pki {
  private revoked = new Set<string>()
  /** the user's own server certificate (--tls-cert), used instead of the one Berth's CA issues */
  private own: OwnCertificate | undefined

  private constructor(
    private readonly dir: string,
    private readonly db: Database.Database,
    readonly ca: KeyAndCertificate,
    readonly clientCa: KeyAndCertificate,
    private readonly dnsConstraints: string[],
    private issued: KeyAndCertificate,
  ) {
    this.reloadRevocations()
  }

  /** The certificate the TLS listeners present: the user's own, else the one Berth's CA issued. */
  get server(): KeyAndCertificate {
    return this.own ?? this.issued
  }

  get ownCertificate(): OwnCertificate | undefined {
    return this.own
  }

  /** Serves the user's own certificate from now on (null: Berth's again), and remembers the choice. */
  useOwnCertificate(own: OwnCertificate | null): void {
    this.own = own ?? undefined
    rememberOwnCertificate(this.dir, own)
  }

  /** What clients must trust for the TLS listeners: Berth's CA, or the anchor of the user's own chain. */
  get trustAnchorPem(): string {
    return this.own?.anchorPem ?? this.ca.certPem
  }

  static async open(pkiDir: string, db: Database.Database, extraNames: string[] = []): Promise<Pki> {
    await mkdir(pkiDir, { recursive: true, mode: 0o700 })
    const host = hostname().toLowerCase()
    const constraints = await loadOrCreate(join(pkiDir, 'ca-constraints.json'), async () =>
      JSON.stringify([...LOCAL_DNS_SUFFIXES, ...(/^[a-z0-9-]+$/.test(host) ? [host] : []), 'host.docker.internal']),
    )
    const dnsConstraints = JSON.parse(constraints) as string[]
    const ca = await loadOrCreatePair(pkiDir, 'ca', () => createCertificateAuthority('Berth local CA', { dnsConstraints }))
    const clientCa = await loadOrCreatePair(pkiDir, 'client-ca', () => createCertificateAuthority('Berth client CA'))
    const server = await loadOrCreatePair(pkiDir, 'server', () => issueServerCertificate(ca, defaultServerNames()))
    const pki = new Pki(pkiDir, db, ca, clientCa, dnsConstraints, server)
    await pki.ensureServerNames([...defaultServerNames(), ...extraNames])
    // after: Berth's own certificate stays current whichever one is served
    pki.own = rememberedOwnCertificate(pkiDir)
    return pki
  }

  serverInfo() {
    return certificateInfo(this.server.certPem)
  }

  /** Reissues the server certificate when it lacks one of `names` or expires within 30 days. Returns whether it did. */
  async ensureServerNames(names: string[]): Promise<boolean> {
    if (this.own) {
      // never reissued: a name it lacks is for the user to add to their certificate
      const have = new Set(this.serverInfo().names)
      const missing = names.filter((name) => !have.has(canonicalName(name)) && !isDefaultName(name))
      if (missing.length > 0) {
        throw new NameNotPermittedError(`the server certificate is your own (${this.own.certPath}): it does not name ${missing.join(', ')}; issue one that does`)
      }
      return false
    }
    const refused = names.filter((name) => !isPermittedName(name, this.dnsConstraints))
    if (refused.length > 0) {
      throw new NameNotPermittedError(
        `${refused.join(', ')} ${refused.length > 1 ? 'are' : 'is'} outside the names Berth's CA may certify (${this.dnsConstraints.join(', ')} and private addresses)`,
      )
    }
    const info = this.serverInfo()
    const current = new Set(info.names)
    const wanted = [...new Set([...info.names, ...names].map(canonicalName))]
    const missing = names.some((name) => !current.has(canonicalName(name)))
    const expiring = info.notAfter.getTime() - Date.now() < RENEW_BEFORE_MS
    if (!missing && !expiring) return false
    this.issued = issueServerCertificate(this.ca, wanted)
    await writePair(this.dir, 'server', this.issued)
    return true
  }

  issueClient(name: string): IssuedCertificate {
    const issued = issueClientCertificate(this.clientCa, name)
    this.db
      .prepare('INSERT INTO client_certificates (serial, name, issued_at, not_after, cert_pem) VALUES (?, ?, ?, ?, ?)')
      .run(issued.serial.toLowerCase(), name, Date.now(), issued.notAfter.getTime(), issued.certPem)
    return issued
  }

  listClients(): ClientCertificateRecord[] {
    const rows = this.db
      .prepare<[], { serial: string; name: string; issued_at: number; not_after: number; revoked_at: number | null }>(
        'SELECT serial, name, issued_at, not_after, revoked_at FROM client_certificates ORDER BY issued_at, serial',
      )
      .all()
    return rows.map((row) => ({
      serial: row.serial,
      name: row.name,
      issuedAt: row.issued_at,
      notAfter: row.not_after,
      revokedAt: row.revoked_at,
      state: row.revoked_at ? 'revoked' : row.not_after < Date.now() ? 'expired' : 'valid',
    }))
  }

  /** Revokes by serial, or every certificate with that name. Returns the serials revoked. */
  revoke(nameOrSerial: string): string[] {
    const key = nameOrSerial.toLowerCase()
    const targets = this.listClients().filter((c) => c.revokedAt === null && (c.serial === key || c.name === nameOrSerial))
    const stamp = this.db.prepare('UPDATE client_certificates SET revoked_at = ? WHERE serial = ?')
    for (const c of targets) stamp.run(Date.now(), c.serial)
    this.reloadRevocations()
    return targets.map((c) => c.serial)
  }

  isRevoked(serial: string): boolean {
    return this.revoked.has(serial.toLowerCase())
  }

  /** Re-reads revocations (another process may have written them while no server ran). */
  reloadRevocations(): void {
    const rows = this.db.prepare<[], { serial: string }>('SELECT serial FROM client_certificates WHERE revoked_at IS NOT NULL').all()
    this.revoked = new Set(rows.map((r) => r.serial))
  }
}

async function loadOrCreate(path: string, create: () => Promise<string>): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    const content = await create()
    await writeAtomic(path, content, 0o600)
    return content
  }
}

async function loadOrCreatePair(dir: string, name: string, create: () => KeyAndCertificate): Promise<KeyAndCertificate> {
  try {
    return { keyPem: await readFile(join(dir, `${name}.key`), 'utf8'), certPem: await readFile(join(dir, `${name}.crt`), 'utf8') }
  } catch {
    const pair = create()
    await writePair(dir, name, pair)
    return pair
  }
}

async function writePair(dir: string, name: string, pair: KeyAndCertificate): Promise<void> {
  // key first: a crash between the two leaves a key without its certificate, which is recreated
  await writeAtomic(join(dir, `${name}.key`), pair.keyPem, 0o600)
  await writeAtomic(join(dir, `${name}.crt`), pair.certPem, 0o644)
}

async function writeAtomic(path: string, content: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(temp, content, { mode })
  await rename(temp, path)
}

/** The names Berth asks for by itself at start: an own certificate need not have them all. */
function isDefaultName(name: string): boolean {
  return defaultServerNames().includes(canonicalName(name))
}
