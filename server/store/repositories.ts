// Repository rows, created on first use.
import type Database from 'better-sqlite3'

export class Repositories {
  private readonly selectId
  private readonly insert

  constructor(db: Database.Database) {
    this.selectId = db.prepare<[string], { id: number }>('SELECT id FROM repositories WHERE name = ?')
    this.insert = db.prepare<[string, number]>('INSERT INTO repositories (name, created_at) VALUES (?, ?)')
  }

  idOf(name: string): number | undefined {
    return this.selectId.get(name)?.id
  }

  /** The repository's id, creating the row when it does not exist yet. Call inside a transaction. */
  ensure(name: string): number {
    return this.idOf(name) ?? Number(this.insert.run(name, Date.now()).lastInsertRowid)
  }
}
