// Activity stays bounded whatever anonymous clients send: a pull flood with 15 KB User-Agents
// keeps the database small, repeated pulls are one row with a count, and old rows are pruned.
import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { pushImage } from '../helpers/http-client'
import { EVENT_LIMITS, EventLog } from '../../server/store/events'
import { Store } from '../../server/store/store'

function databaseBytes(dataDir: string): number {
  return readdirSync(dataDir)
    .filter((name) => name.startsWith('berth.db'))
    .reduce((sum, name) => sum + statSync(join(dataDir, name)).size, 0)
}

describe('bounded activity', () => {
  it('5000 pulls with 15 KB User-Agents keep the database small: one row per client and minute, its text capped', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir)
    try {
      await pushImage(server.http, 'app', 'v1')
      const before = databaseBytes(dataDir)
      const agents = Array.from({ length: 5 }, (_, i) => `flood-${i}-${'x'.repeat(15_000)}`)
      for (let i = 0; i < 5000; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            fetch(`${server.http}/v2/app/manifests/v1`, { headers: { 'user-agent': agents[(i + j) % agents.length] } }).then((r) => r.arrayBuffer()),
          ),
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
      const growth = databaseBytes(dataDir) - before
      assert.ok(growth < 1_000_000, `the database grew by ${growth} bytes`)
    } finally {
      assert.equal(await server.stop(), 0)
    }
    const store = await Store.open(dataDir)
    try {
      const pulls = store.db.prepare<[], { count: number; ua: number }>("SELECT count, length(user_agent) AS ua FROM events WHERE kind = 'pull'").all()
      assert.ok(pulls.length <= 10, `${pulls.length} pull rows`)
      assert.equal(pulls.reduce((sum, row) => sum + row.count, 0), 5000)
      assert.ok(pulls.every((row) => row.ua <= EVENT_LIMITS.userAgent))
    } finally {
      store.close()
    }
  })

  it('prunes past the row cap and the retention', async () => {
    const store = await Store.open(tempDir())
    const saved = { ...EVENT_LIMITS }
    try {
      EVENT_LIMITS.rows = 100
      const events = new EventLog(store.db)
      const old = Date.now() - EVENT_LIMITS.retentionMs - 1000
      store.db.prepare("INSERT INTO events (at, kind, detail) VALUES (?, 'push', 'ancient')").run(old)
      for (let i = 0; i < 1000; i++) events.record({ kind: 'push', repository: `r${i}`, reference: 'v1' })
      events.flush()
      const rows = store.db.prepare<[], { n: number; ancient: number }>("SELECT count(*) AS n, sum(detail = 'ancient') AS ancient FROM events").get()!
      assert.equal(rows.n, EVENT_LIMITS.rows)
      assert.equal(rows.ancient ?? 0, 0)
    } finally {
      Object.assign(EVENT_LIMITS, saved)
      store.close()
    }
  })
})
