// Rate limits: token buckets per client address for reads and writes, 429 TOOMANYREQUESTS with
// Retry-After over them; off by default for loopback clients; changed live from the settings;
// and skopeo, a real client, waits and finishes its push under a tight limit.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parseRateLimit, RateLimiter } from '../../server/registry/rate-limit'
import { authority, startBerth } from '../helpers/berth-process'
import { attempt, buildImage, missingTools } from '../helpers/containers'
import { tempDir } from '../helpers/fixtures'
import { pushImage } from '../helpers/http-client'

interface Answer {
  status: number
  headers: Headers
  body: string
}

async function flood(url: string, count: number, width: number, init: RequestInit = {}): Promise<Answer[]> {
  const answers: Answer[] = []
  const one = async (): Promise<Answer> => {
    const response = await fetch(url, init)
    return { status: response.status, headers: response.headers, body: await response.text() }
  }
  for (let start = 0; start < count; start += width) answers.push(...(await Promise.all(Array.from({ length: Math.min(width, count - start) }, one))))
  return answers
}

const skopeoMissing = await missingTools('skopeo', 'buildah')

describe('rate limits', () => {
  it('buckets: a burst of two seconds passes, then one request per 1/R s; loopback is exempt under auto', () => {
    const limiter = new RateLimiter(() => parseRateLimit('10,2'))
    let refused = 0
    for (let i = 0; i < 25; i++) if (limiter.take('127.0.0.1', false, 0) !== null) refused++
    assert.equal(refused, 5, 'a bucket holds 20 reads')
    assert.equal(limiter.take('127.0.0.1', false, 100), null, '100 ms later one more read has dripped in')
    assert.equal(limiter.take('127.0.0.1', true, 100), null, 'writes have their own bucket')
    const auto = new RateLimiter(() => parseRateLimit('auto'))
    for (let i = 0; i < 1000; i++) assert.equal(auto.take('127.0.0.1', true, 0), null)
    let lan = 0
    for (let i = 0; i < 1000; i++) if (auto.take('192.168.1.7', false, 0) !== null) lan++
    assert.equal(lan, 600, 'auto gives another machine 200 reads a second, a bucket of 400')
    assert.throws(() => parseRateLimit('fast'), /not a rate limit/)
  })

  it('never gets in the way on loopback by default: 500 tags/list requests, 32 at a time, all 200', async () => {
    const server = await startBerth(tempDir())
    try {
      await pushImage(server.http, 'app', 'v1')
      const answers = await flood(`${server.http}/v2/app/tags/list`, 500, 32)
      assert.deepEqual([...new Set(answers.map((a) => a.status))], [200])
    } finally {
      await server.stop()
    }
  })

  it('answers 429 TOOMANYREQUESTS with Retry-After over the limit, records it once, and a settings change applies at once', async () => {
    const server = await startBerth(tempDir(), ['--rate-limit', '20,5'])
    try {
      await pushImage(server.http, 'app', 'v1').catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, 2100))
      const answers = await flood(`${server.http}/v2/app/tags/list`, 200, 32)
      const refused = answers.filter((a) => a.status === 429)
      assert.ok(refused.length >= 100, `${refused.length} of 200 refused`)
      assert.ok(Number(refused[0].headers.get('retry-after')) >= 1)
      assert.equal((JSON.parse(refused[0].body) as { errors: { code: string }[] }).errors[0].code, 'TOOMANYREQUESTS')
      assert.equal((await fetch(`${server.http}/readyz`)).status, 200, 'probes are not limited')
      const writes = await flood(`${server.http}/v2/app/blobs/uploads/`, 30, 30, { method: 'POST' })
      assert.ok(writes.some((w) => w.status === 429), 'writes have their own, smaller bucket')

      const gui = new URL(server.urls.gui)
      const headers = { Authorization: `Bearer ${gui.searchParams.get('token')}`, 'Content-Type': 'application/json' }
      const activity = (await (await fetch(`${gui.origin}/api/activity:recent`, { method: 'POST', headers, body: '{}' })).json()) as { result: { detail: string; failure?: unknown }[] }
      const limited = activity.result.filter((e) => e.detail?.startsWith('rate-limited:'))
      assert.equal(limited.length, 1, 'a flood is one Activity entry')
      assert.ok(limited[0].failure, 'explained, with the fix')

      const update = await fetch(`${gui.origin}/api/settings:update`, { method: 'POST', headers, body: JSON.stringify({ rateLimit: 'off' }) })
      assert.equal(update.status, 200)
      const after = await flood(`${server.http}/v2/app/tags/list`, 200, 32)
      assert.deepEqual([...new Set(after.map((a) => a.status))], [200])
    } finally {
      await server.stop()
    }
  })

  it('skopeo waits out the 429s and finishes a push under a tight limit', { skip: skopeoMissing }, async () => {
    const work = tempDir()
    const server = await startBerth(join(work, 'data'), ['--rate-limit', '3,1'])
    try {
      const image = await buildImage(work, { bytes: 20_000 })
      const pushed = await attempt('skopeo', ['copy', '--retry-times', '5', '--dest-tls-verify=false', `containers-storage:${image}`, `docker://${authority(server.http)}/slow/app:v1`])
      assert.ok(pushed.ok, pushed.output)
      assert.equal((await fetch(`${server.http}/v2/slow/app/manifests/v1`, { method: 'HEAD' })).status, 200)
    } finally {
      await server.stop()
    }
  })
})
