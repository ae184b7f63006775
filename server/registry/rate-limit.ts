// Token buckets per client address, one for reads (GET, HEAD) and one for writes: over the rate,
// 429 TOOMANYREQUESTS with Retry-After. A client that retries gets through (skopeo with
// --retry-times does, test/ops/rate-limit.test.ts); one that does not fails with "toomanyrequests".
//
// `auto` (the default) limits only clients on other machines, so one developer on loopback
// never meets it while a listener open to the LAN is protected; `R,W` limits every client;
// `off` limits none. A bucket holds two seconds' worth, so a client's burst (a pull fetching
// its layers at once) passes.
import { isLoopbackHost } from '../config'

export interface RateLimit {
  /** requests per second per address; null: not limited */
  reads: number | null
  writes: number | null
  /** whether loopback clients are limited too */
  loopback: boolean
}

/** What `auto` means: generous for a person or a CI job, not for a flood. */
export const AUTO_RATE_LIMIT: RateLimit = { reads: 200, writes: 50, loopback: false }
export const NO_RATE_LIMIT: RateLimit = { reads: null, writes: null, loopback: false }

const BURST_SECONDS = 2
/** addresses remembered at most; the idle ones are dropped first */
const MAX_ADDRESSES = 10_000

export class RateLimitError extends Error {}

/** `auto`, `off`, or `R,W` (requests per second: reads, writes). */
export function parseRateLimit(text: string): RateLimit {
  const value = text.trim().toLowerCase()
  if (value === 'auto') return AUTO_RATE_LIMIT
  if (value === 'off') return NO_RATE_LIMIT
  const match = /^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(value)
  if (!match || Number(match[1]) <= 0 || Number(match[2]) <= 0) {
    throw new RateLimitError(`not a rate limit: ${JSON.stringify(text)} (R,W requests per second for reads and writes, such as 100,20; auto; or off)`)
  }
  return { reads: Number(match[1]), writes: Number(match[2]), loopback: true }
}

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  private readonly buckets = new Map<string, { reads: Bucket; writes: Bucket }>()

  /** `limit` is read on every request: a settings change applies at once. */
  constructor(private readonly limit: () => RateLimit) {}

  /** Takes one request's token; returns how many seconds to wait when there is none. */
  take(address: string, write: boolean, now = performance.now()): number | null {
    const limit = this.limit()
    const rate = write ? limit.writes : limit.reads
    // an IPv4 client of a dual-stack listener reads ::ffff:a.b.c.d
    if (rate === null || (!limit.loopback && isLoopbackHost(address.startsWith('::ffff:') ? address.slice(7) : address))) return null
    let entry = this.buckets.get(address)
    if (!entry) {
      if (this.buckets.size >= MAX_ADDRESSES) this.buckets.delete(this.buckets.keys().next().value!)
      entry = { reads: { tokens: Infinity, at: now }, writes: { tokens: Infinity, at: now } }
    } else this.buckets.delete(address) // re-inserted below: the map's order is least recently seen first
    this.buckets.set(address, entry)
    const bucket = write ? entry.writes : entry.reads
    const capacity = rate * BURST_SECONDS
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * rate)
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return null
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate))
  }
}
