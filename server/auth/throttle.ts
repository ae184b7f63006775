// Password guessing gets slower with every failure, per user name and client address: each
// failed sign-in waits 100 ms × 2^(failures − 1), up to 5 s, before it is answered, and after
// 10 failures in 10 minutes that pair is refused with 429 until the window passes. A success
// clears the pair.
import { OciError } from '../registry/errors'

const WINDOW_MS = 10 * 60_000
const LOCK_AFTER = 10
const MAX_DELAY_MS = 5_000
const MAX_KEYS = 10_000

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>()

  constructor(private readonly maxDelayMs = MAX_DELAY_MS) {}

  /** Throws 429 TOOMANYREQUESTS while this pair is locked out. */
  refuseIfLocked(key: string): void {
    const entry = this.current(key)
    if (entry && entry.count >= LOCK_AFTER) {
      const retry = Math.ceil((entry.since + WINDOW_MS - Date.now()) / 1000)
      throw new OciError('TOOMANYREQUESTS', `too many failed sign-ins for this user from this address; retry in ${retry} s`)
        .withHeaders({ 'Retry-After': String(Math.max(1, retry)) })
        .because('wrong-password')
    }
  }

  async failed(key: string): Promise<void> {
    const entry = this.current(key) ?? { count: 0, since: Date.now() }
    entry.count++
    if (this.failures.size >= MAX_KEYS) this.failures.clear()
    this.failures.set(key, entry)
    const delay = Math.min(this.maxDelayMs, 100 * 2 ** (entry.count - 1))
    await new Promise((resolve) => setTimeout(resolve, delay))
  }

  succeeded(key: string): void {
    this.failures.delete(key)
  }

  private current(key: string) {
    const entry = this.failures.get(key)
    if (entry && Date.now() - entry.since > WINDOW_MS) {
      this.failures.delete(key)
      return undefined
    }
    return entry
  }
}
