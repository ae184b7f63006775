// The memory floor for idle RSS: the least a registry built on Berth's fixed choices holds at
// rest, a Fastify server with one route and a better-sqlite3 database open (WAL), in a process
// of its own. Prints its URL, then serves until killed.
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import { join } from 'node:path'

const db = new Database(join(process.argv[2], 'floor.db'))
db.pragma('journal_mode = WAL')
db.exec('CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL)')
const count = db.prepare('SELECT count(*) AS n FROM blobs')
const app = Fastify()
app.get('/v2/', async () => count.get())
const url = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`${url}\n`)
