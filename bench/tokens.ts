// What the token protocol costs: small-object pulls from Berth's TLS listener with users and
// tokens (every request carries a Bearer token, as docker's do) against the same pulls from an
// open TLS listener. Part of `npm run bench`; the goal is at least 90 % of the open speed.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBerth } from './servers'
import { client, smallObjects, pullSmall, type Client } from './workloads'

export interface TokenOverhead {
  open: { manifestPull: number; blobPull: number }
  token: { manifestPull: number; blobPull: number }
}

/** `round` alternates which listener goes first (the client warms up on the first). */
export async function tokenOverhead(count: number, size: number, inFlight: number, round = 0): Promise<TokenOverhead> {
  const dirs = [mkdtempSync(join(tmpdir(), 'berth-bench-open-')), mkdtempSync(join(tmpdir(), 'berth-bench-token-'))]
  const open = await startBerth(dirs[0], ['--https-write', 'open'])
  const users = await startBerth(dirs[1], ['--https-write', 'users'])
  const clients: Client[] = []
  try {
    const measure = async (target: typeof open, headers: Record<string, string>) => {
      // the objects go in over plain HTTP; the pulls are what is measured, over TLS
      const seed = client(target.http, target.caPem)
      clients.push(seed)
      const seeded = await smallObjects(seed, 'tok/app', count, size, inFlight, { keepPulls: true })
      const tls = client(target.https, target.caPem, inFlight)
      clients.push(tls)
      return pullSmall(tls, 'tok/app', seeded.objects!, inFlight, headers)
    }
    const token = await anonymousToken(users.https, users.caPem)
    if (round % 2) {
      const withTokens = await measure(users, { Authorization: `Bearer ${token}` })
      return { token: withTokens, open: await measure(open, {}) }
    }
    const withoutTokens = await measure(open, {})
    return { open: withoutTokens, token: await measure(users, { Authorization: `Bearer ${token}` }) }
  } finally {
    clients.forEach((c) => c.close())
    await Promise.all([open.stop(), users.stop()])
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** An anonymous pull token from the listener's /token endpoint, as docker fetches one. */
async function anonymousToken(base: string, caPem: string): Promise<string> {
  const c = client(base, caPem, 1)
  try {
    const response = await c.request('GET', '/token?service=berth&scope=repository:tok/app:pull')
    let body = ''
    for await (const chunk of response) body += chunk
    if (response.statusCode !== 200) throw new Error(`token: ${response.statusCode} ${body}`)
    return (JSON.parse(body) as { token: string }).token
  } finally {
    c.close()
  }
}
