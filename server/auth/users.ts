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
