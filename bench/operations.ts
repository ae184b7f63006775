// What the operations features cost at their defaults: small-object throughput of a Berth with
// metrics collected and the rate limit at `auto` (the defaults) against one with both off, and,
// for information, one that also writes the JSON access log. Part of `npm run bench`; the goal is
// that the defaults keep at least 95 % of the bare throughput.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuSeconds, startBerth } from './servers'
import { client, smallObjects, type SmallObjectRates } from './workloads'

export const VARIANTS = {
  bare: ['--metrics', 'off', '--rate-limit', 'off'],
  defaults: [],
  'access log': ['--log-format', 'json'],
} as const

export type Variant = keyof typeof VARIANTS

const WARM_UP_ROUNDS = 3

/**
 * Rounds of the small-object workload on three servers that run side by side (so that the
 * machine's slow drift hits all of them alike), each round in a rotating order on a new
 * repository. Returns each round's rates per variant: compare them round by round.
 */
export interface RoundFigures extends SmallObjectRates {
  /** the server's CPU seconds for the round's whole workload */
  cpu: number
}

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

/**
 * The same question without the network's noise: in-process requests (Fastify's inject) to a
 * registry app with metrics and the default rate limit, and to one without; microseconds per
 * request, the median of alternating rounds.
 */
export async function handlerOverhead(requests = 5000, rounds = 6): Promise<Record<'manifest' | 'blob', { bare: number; defaults: number }>> {
  const { Store } = await import('../server/store/store')
  const { buildRegistryApp } = await import('../server/registry/app')
  const { Metrics } = await import('../server/metrics')
  const { parseRateLimit, RateLimiter } = await import('../server/registry/rate-limit')
  const { createHash } = await import('node:crypto')
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-handler-'))
  const store = await Store.open(dir)
  const policy = { deleteEnabled: true }
  const bare = await buildRegistryApp({ store, policy })
  const defaults = await buildRegistryApp({ store, policy, listener: 'http', metrics: new Metrics(store), rateLimiter: new RateLimiter(() => parseRateLimit('auto')) })
  try {
    const digest = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}')
    await bare.inject({ method: 'POST', url: `/v2/app/blobs/uploads/?digest=${digest(config)}`, payload: config, headers: { 'content-type': 'application/octet-stream' } })
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
      layers: [],
    })
    await bare.inject({ method: 'PUT', url: '/v2/app/manifests/v1', payload: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })
    const urls = { manifest: '/v2/app/manifests/v1', blob: `/v2/app/blobs/${digest(config)}` }
    const time = async (app: typeof bare, url: string) => {
      const started = performance.now()
      for (let i = 0; i < requests; i++) await app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' })
      return ((performance.now() - started) * 1000) / requests
    }
    const result = {} as Record<'manifest' | 'blob', { bare: number; defaults: number }>
    for (const kind of ['manifest', 'blob'] as const) {
      await time(bare, urls[kind]) // warm up
      await time(defaults, urls[kind])
      const samples = { bare: [] as number[], defaults: [] as number[] }
      for (let round = 0; round < rounds; round++) {
        if (round % 2) samples.defaults.push(await time(defaults, urls[kind]))
        samples.bare.push(await time(bare, urls[kind]))
        if (!(round % 2)) samples.defaults.push(await time(defaults, urls[kind]))
      }
      const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]
      result[kind] = { bare: median(samples.bare), defaults: median(samples.defaults) }
    }
    return result
  } finally {
    await bare.close()
    await defaults.close()
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
