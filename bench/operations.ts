// What the operations features cost at their defaults: the server CPU and the small-object
// throughput of a Berth with metrics collected and the rate limit at `auto` (the defaults)
// against one with both off, and, for information, one that also writes the JSON access log.
// A second Berth with both off is the control: how far two identical servers differ here is the
// noise floor the other figures are read against. Part of `npm run bench`; the goal is that the
// defaults cost under 5 %.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuSeconds, startBerth } from './servers'
import { client, smallObjects, type SmallObjectRates } from './workloads'

const OFF = ['--metrics', 'off', '--rate-limit', 'off']
export const VARIANTS = {
  bare: OFF,
  control: OFF,
  defaults: [],
  'access log': ['--log-format', 'json'],
} as const

export type Variant = keyof typeof VARIANTS

const WARM_UP_ROUNDS = 3

export interface RoundFigures extends SmallObjectRates {
  /** the server's CPU seconds (all its threads) for the round's whole workload */
  cpu: number
}

/**
 * Short rounds of the small-object workload (`count` objects: blob pushes, manifest pushes,
 * manifest pulls, blob pulls) on servers that run side by side, each round in a rotating order
 * on a new repository, so that the machine's drift hits every variant alike. Many short rounds
 * rather than a few long ones: the figures are sums and medians over them.
 */
export async function operationsOverhead(count: number, size: number, inFlight: number, rounds: number): Promise<Record<Variant, RoundFigures>[]> {
  const names = Object.keys(VARIANTS) as Variant[]
  const dirs = names.map(() => mkdtempSync(join(tmpdir(), 'berth-bench-ops-')))
  const servers = await Promise.all(names.map((name, i) => startBerth(dirs[i], [...VARIANTS[name]])))
  const clients = servers.map((berth) => client(berth.http, berth.caPem, inFlight))
  try {
    // the first rounds on fresh servers swing by 2× (the JIT, SQLite's caches, the heap growing):
    // they warm up and are not counted
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      for (const c of clients) await smallObjects(c, `ops/warm${round}`, count, size, inFlight)
    }
    const results: Record<Variant, RoundFigures>[] = []
    for (let round = 0; round < rounds; round++) {
      const result = {} as Record<Variant, RoundFigures>
      for (let k = 0; k < names.length; k++) {
        const i = (k + round) % names.length
        const before = cpuSeconds(servers[i].pids)
        const { objects: _objects, ...rates } = await smallObjects(clients[i], `ops/r${round}`, count, size, inFlight)
        result[names[i]] = { ...rates, cpu: cpuSeconds(servers[i].pids) - before }
      }
      results.push(result)
    }
    return results
  } finally {
    clients.forEach((c) => c.close())
    await Promise.all(servers.map((berth) => berth.stop()))
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** requests one round of `smallObjects(count)` sends: the config's POST and PUT, then per object a blob's POST and PUT, a manifest PUT, a manifest GET and a blob GET */
export const requestsPerRound = (count: number) => 2 + 5 * count

/**
 * The same question without the network's noise: what the code the defaults add to every
 * request costs, timed alone over a million calls each (microseconds per call): the metrics'
 * bookkeeping for a mix of routes, and the rate limiter's decision for a loopback client (not
 * limited under `auto`) and for a LAN client (a token taken from its bucket).
 */
export async function perRequestCost(calls = 1_000_000): Promise<{ metrics: number; rateLimitLoopback: number; rateLimitLan: number }> {
  const { Store } = await import('../server/store/store')
  const { Metrics } = await import('../server/metrics')
  const { parseRateLimit, RateLimiter } = await import('../server/registry/rate-limit')
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-per-request-'))
  const store = await Store.open(dir)
  try {
    const metrics = new Metrics(store)
    const routes = [
      { route: '/v2/*/manifests/:reference', method: 'GET', received: undefined },
      { route: '/v2/*/blobs/:digest', method: 'GET', received: undefined },
      { route: '/v2/*/blobs/uploads/', method: 'POST', received: undefined },
      { route: '/v2/*/blobs/uploads/:uuid', method: 'PUT', received: '4096' },
    ].map(({ route, method, received }) => ({ series: metrics.forRoute('http', route), request: { method, headers: { 'content-length': received } } }))
    const reply = { statusCode: 200, elapsedTime: 1.3, getHeader: () => '4096' }
    type Observed = Parameters<(typeof routes)[number]['series']['observe']>
    const limiter = new RateLimiter(() => parseRateLimit('auto'))
    const lan = Array.from({ length: 8 }, (_, i) => `192.168.1.${i + 10}`)
    const time = (call: (i: number) => void) => {
      const best: number[] = []
      for (let round = 0; round < 3; round++) {
        const started = performance.now()
        for (let i = 0; i < calls; i++) call(i)
        best.push(((performance.now() - started) * 1000) / calls)
      }
      return Math.min(...best)
    }
    return {
      metrics: time((i) => routes[i & 3].series.observe(routes[i & 3].request as unknown as Observed[0], reply as unknown as Observed[1])),
      rateLimitLoopback: time((i) => limiter.take('127.0.0.1', (i & 1) === 0)),
      rateLimitLan: time((i) => limiter.take(lan[i & 7], (i & 1) === 0)),
    }
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
