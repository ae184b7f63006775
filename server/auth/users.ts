// Users for basic auth on the TLS listener: bcrypt hashes, as `htpasswd -B` writes them.
import { createHash } from 'node:crypto'
import type Database from 'better-sqlite3'
import bcrypt from 'bcryptjs'

const COST = 10
/** A hash of nothing anyone can type, at the same cost as real ones (made on first use). */
let dummyHash: string | undefined
const dummy = () => (dummyHash ??= bcrypt.hashSync(`berth-no-such-user-${Math.random()}`, COST))
const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/

export class UserError extends Error {}

export class Users {
  /** sha256(name:password) of credentials already checked, so each request is not a bcrypt run */
  private verified = new Set<string>()

  constructor(private readonly db: Database.Database) {}

  add(name: string, password: string): void {
    if (!USER_NAME.test(name)) throw new UserError(`invalid user name ${JSON.stringify(name)}: use letters, digits and . _ @ -`)
    if (password.length === 0) throw new UserError('the password is empty')
    // $2y$ is htpasswd's prefix for the same algorithm; bcryptjs reads both
    const hash = bcrypt.hashSync(password, COST).replace(/^\$2b\$/, '$2y$')
    this.db
      .prepare(
        `INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash`,
      )
      .run(name, hash, Date.now())
    this.verified.clear()
  }

  /**
   * Users from htpasswd lines (`name:$2y$...`). Only bcrypt hashes are taken: any other kind
   * (MD5 $apr1$, {SHA}, crypt) is refused, naming its line, and nothing is imported then.
   */
  importHtpasswd(text: string): string[] {
    const entries: { name: string; hash: string }[] = []
    text.split(/\r?\n/).forEach((line, index) => {
      if (line.trim() === '' || line.startsWith('#')) return
      const colon = line.indexOf(':')
      const name = line.slice(0, colon)
      const hash = line.slice(colon + 1).trim()
      if (colon <= 0 || !USER_NAME.test(name)) throw new UserError(`line ${index + 1}: not NAME:HASH with a valid user name`)
      if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
        throw new UserError(`line ${index + 1} (${name}): only bcrypt hashes can be imported (htpasswd -B); this one is ${hashKind(hash)}`)
      }
      entries.push({ name, hash: hash.replace(/^\$2[ab]\$/, '$2y$') })
    })
    const upsert = this.db.prepare(
      `INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash`,
    )
    this.db.transaction(() => entries.forEach((e) => upsert.run(e.name, e.hash, Date.now())))()
    this.verified.clear()
    return entries.map((e) => e.name)
  }

  /** Every user as an htpasswd line, bcrypt as `htpasswd -B` writes it. */
  exportHtpasswd(): string {
    const rows = this.db.prepare<[], { name: string; password_hash: string }>('SELECT name, password_hash FROM users ORDER BY name').all()
    return rows.map((r) => `${r.name}:${r.password_hash}\n`).join('')
  }

  remove(name: string): boolean {
    this.verified.clear()
    return this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes > 0
  }

  list(): { name: string; createdAt: number }[] {
    return this.db.prepare<[], { name: string; createdAt: number }>('SELECT name, created_at AS createdAt FROM users ORDER BY name').all()
  }

  async verify(name: string, password: string): Promise<boolean> {
    const key = createHash('sha256').update(`${name}\0${password}`).digest('hex')
    if (this.verified.has(key)) return true
    const row = this.db.prepare<[string], { password_hash: string }>('SELECT password_hash FROM users WHERE name = ?').get(name)
    // an unknown name costs a bcrypt run too, so the answer's timing does not tell which names exist
    const ok = await bcrypt.compare(password, row ? row.password_hash.replace(/^\$2y\$/, '$2b$') : dummy())
    if (!row) return false
    if (ok) this.verified.add(key)
    return ok
  }

  /** A short fingerprint of the user's password hash (it changes with the password), or undefined. */
  passwordFingerprint(name: string): string | undefined {
    const row = this.db.prepare<[string], { password_hash: string }>('SELECT password_hash FROM users WHERE name = ?').get(name)
    return row ? createHash('sha256').update(row.password_hash).digest('base64url').slice(0, 16) : undefined
  }

  /** Forgets cached verifications (users changed in another process). */
  invalidate(): void {
    this.verified.clear()
  }
}

/** Decodes `Authorization: Basic ...`; undefined when absent or malformed. */
export function basicCredentials(header: string | undefined): { name: string; password: string } | undefined {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim()) : null
  if (!match) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

function hashKind(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'Apache MD5 ($apr1$)'
  if (hash.startsWith('{SHA}')) return 'SHA-1 ({SHA})'
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'SHA-crypt'
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash'
  return 'crypt or plain text'
}
