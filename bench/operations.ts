// What the operations features cost at their defaults: small-object throughput of a Berth with
// metrics collected and the rate limit at `auto` (the defaults) against one with both off, and,
// for information, one that also writes the JSON access log. Part of `npm run bench`; the goal is
// that the defaults keep at least 95 % of the bare throughput.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBerth } from './servers'
import { client, smallObjects, type SmallObjectRates } from './workloads'

export const VARIANTS = {
  bare: ['--metrics', 'off', '--rate-limit', 'off'],
  defaults: [],
  'access log': ['--log-format', 'json'],
} as const

export type Variant = keyof typeof VARIANTS

/** One round: each variant on a fresh store, in an order that rotates with `round`. */
export async function operationsOverhead(count: number, size: number, inFlight: number, round = 0): Promise<Record<Variant, SmallObjectRates>> {
  const names = Object.keys(VARIANTS) as Variant[]
  const order = names.map((_, i) => names[(i + round) % names.length])
  const results = {} as Record<Variant, SmallObjectRates>
  for (const name of order) {
    const dir = mkdtempSync(join(tmpdir(), `berth-bench-ops-`))
    const berth = await startBerth(dir, [...VARIANTS[name]])
    const c = client(berth.http, berth.caPem, inFlight)
    try {
      const { objects: _objects, ...rates } = await smallObjects(c, 'ops/app', count, size, inFlight)
      results[name] = rates
    } finally {
      c.close()
      await berth.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return results
}
