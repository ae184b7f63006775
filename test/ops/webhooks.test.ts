// Webhooks against local receivers: distribution's envelope and fields, retries with backoff
// that keep the order, a receiver that hangs (cut by its timeout, holding up no other), a
// kill -9 with events waiting (none lost), `berth webhook test`, the delivery log, filters.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { pushImage } from '../helpers/http-client'

interface Received {
  contentType: string | undefined
  headers: IncomingMessage['headers']
  events: { id: string; action: string; target: Record<string, unknown>; request: Record<string, string>; actor: { name?: string }; source: { instanceID: string } }[]
}

/** A receiver on loopback that fails its first `failures` requests with 500, or never answers. */
async function receiver(options: { failures?: number; hang?: boolean } = {}) {
  const received: Received[] = []
  let calls = 0
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      calls++
      if (options.hang) return // never answers
      if (calls <= (options.failures ?? 0)) return res.writeHead(500).end('not yet')
      received.push({ contentType: req.headers['content-type'], headers: req.headers, ...(JSON.parse(body) as Omit<Received, 'contentType' | 'headers'>) })
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  return {
    url,
    received,
    calls: () => calls,
    events: () => received.flatMap((r) => r.events),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('webhooks', () => {
  it('delivers push, pull and delete events in distribution format, in order, retrying a failing receiver', async () => {
    const dataDir = tempDir()
    const flaky = await receiver({ failures: 2 })
    const server = await startBerth(dataDir)
    try {
      const add = await runBerth(['webhook', 'add', 'ci', flaky.url, '--header', 'Authorization: Bearer hook-secret', '--backoff', '0.2', '--data-dir', dataDir])
      assert.equal(add.code, 0, add.stderr)
      const digest = await pushImage(server.http, 'app', 'v1', { layerBytes: 2000 })
      await fetch(`${server.http}/v2/app/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } }).then((r) => r.arrayBuffer())
      assert.equal((await runBerth(['delete', 'app:v1', '--data-dir', dataDir])).code, 0)

      await until('5 events', () => flaky.events().length >= 5)
      const events = flaky.events()
      assert.deepEqual(
        events.map((e) => `${e.action} ${e.target.mediaType ?? ''} ${e.target.tag ?? ''}`.trim()),
        ['push application/octet-stream', 'push application/octet-stream', 'push application/vnd.oci.image.manifest.v1+json v1', 'pull application/vnd.oci.image.manifest.v1+json v1', 'delete  v1'],
        'blobs, then the manifest, then the pull, then the delete: in the order they happened',
      )
      const push = events[2]
      assert.equal(push.target.repository, 'app')
      assert.equal(push.target.digest, digest)
      assert.equal(push.target.url, `/v2/app/manifests/${digest}`)
      assert.equal(push.request.method, 'PUT')
      assert.match(push.request.useragent, /node|undici/i)
      assert.equal(events[4].actor.name, 'berth', 'a delete from the CLI names berth as the actor')
      assert.equal(new Set(events.map((e) => e.source.instanceID)).size, 1, 'the CLI delete went through the running server: one source')
      assert.equal(flaky.received[0].contentType, 'application/vnd.docker.distribution.events.v1+json')
      assert.equal(flaky.received[0].headers.authorization, 'Bearer hook-secret')

      const log = await runBerth(['webhook', 'deliveries', 'ci', '--json', '--data-dir', dataDir])
      const deliveries = JSON.parse(log.stdout) as { status: number | null; attempt: number; eventId: string }[]
      const first = deliveries.filter((d) => d.eventId === events[0].id).sort((a, b) => a.attempt - b.attempt)
      assert.deepEqual(
        first.map((d) => [d.attempt, d.status]),
        [
          [1, 500],
          [2, 500],
          [3, 200],
        ],
      )
      const listed = JSON.parse((await runBerth(['webhook', 'list', '--json', '--data-dir', dataDir])).stdout) as { name: string; pending: number }[]
      assert.deepEqual(listed.map((h) => [h.name, h.pending]), [['ci', 0]])
      const metrics = await (await fetch(`${new URL(server.urls.gui).origin}/metrics`, { headers: { Authorization: `Bearer ${new URL(server.urls.gui).searchParams.get('token')}` } })).text()
      assert.match(metrics, /berth_webhook_deliveries_total\{endpoint="ci",outcome="failed"\} 2/)
      assert.match(metrics, /berth_webhook_deliveries_total\{endpoint="ci",outcome="delivered"\} [45]/)
    } finally {
      await server.stop()
      await flaky.close()
    }
  })

  it('cuts a receiver that hangs at its timeout, without holding up another; filters by action', async () => {
    const dataDir = tempDir()
    const stuck = await receiver({ hang: true })
    const fine = await receiver()
    const server = await startBerth(dataDir)
    try {
      await runBerth(['webhook', 'add', 'stuck', stuck.url, '--timeout', '0.3', '--data-dir', dataDir])
      await runBerth(['webhook', 'add', 'pushes', fine.url, '--actions', 'push', '--data-dir', dataDir])
      await pushImage(server.http, 'app', 'v1')
      await fetch(`${server.http}/v2/app/manifests/v1`).then((r) => r.arrayBuffer())
      await until('the pushes', () => fine.events().length >= 3, 5000)
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.deepEqual([...new Set(fine.events().map((e) => e.action))], ['push'], 'no pull event for an endpoint that wants pushes')
      await until('a timed-out attempt', () => stuck.calls() >= 2, 10_000)
      const log = JSON.parse((await runBerth(['webhook', 'deliveries', 'stuck', '--json', '--data-dir', dataDir])).stdout) as { status: number | null; error: string }[]
      assert.ok(log.length >= 1)
      assert.equal(log[0].status, null)
      assert.match(log[0].error, /no answer within 300 ms/)
    } finally {
      await server.stop()
      await stuck.close()
      await fine.close()
    }
  })

  it('loses no event to a kill -9: what waited is delivered after the restart', async () => {
    const dataDir = tempDir()
    const later = await receiver()
    const port = new URL(later.url).port
    await later.close() // the receiver is down while the events happen
    let server = await startBerth(dataDir)
    await runBerth(['webhook', 'add', 'late', `http://127.0.0.1:${port}/hook`, '--backoff', '0.1', '--data-dir', dataDir])
    await pushImage(server.http, 'app', 'v1')
    await new Promise((resolve) => setTimeout(resolve, 300))
    await server.kill9()
    const back = await new Promise<Server>((resolve) => {
      const received: unknown[] = []
      const s = createServer((req, res) => {
        let body = ''
        req.on('data', (d) => (body += d))
        req.on('end', () => (received.push(...(JSON.parse(body) as { events: unknown[] }).events), res.writeHead(200).end()))
      })
      ;(s as Server & { received: unknown[] }).received = received
      s.listen(Number(port), '127.0.0.1', () => resolve(s))
    })
    server = await startBerth(dataDir)
    try {
      const received = (back as Server & { received: { action: string }[] }).received
      await until('the 3 events pushed before the kill', () => received.length >= 3)
      assert.deepEqual(received.map((e) => e.action), ['push', 'push', 'push'])
    } finally {
      await server.stop()
      back.closeAllConnections()
      back.close()
    }
  })

  it('berth webhook test sends a test event and says what the receiver answered', async () => {
    const dataDir = tempDir()
    const ok = await receiver()
    const failing = await receiver({ failures: 100 })
    try {
      await runBerth(['webhook', 'add', 'ok', ok.url, '--data-dir', dataDir])
      await runBerth(['webhook', 'add', 'bad', failing.url, '--data-dir', dataDir])
      const good = await runBerth(['webhook', 'test', 'ok', '--data-dir', dataDir])
      assert.equal(good.code, 0, good.stderr)
      assert.match(good.stdout, /webhook ok: delivered \(200\)/)
      assert.equal(ok.events()[0].target.repository, 'berth/webhook-test')
      const bad = await runBerth(['webhook', 'test', 'bad', '--data-dir', dataDir])
      assert.equal(bad.code, 1)
      assert.match(bad.stdout, /failed: answered 500/)
      const wrong = await runBerth(['webhook', 'add', 'x', 'ftp://example.com/', '--data-dir', dataDir])
      assert.equal(wrong.code, 2)
      assert.match(wrong.stderr, /http or https/)
      assert.equal((await runBerth(['webhook', 'remove', 'bad', '--data-dir', dataDir])).code, 0)
      assert.match((await runBerth(['webhook', 'list', '--data-dir', dataDir])).stdout, /^ok /m)
    } finally {
      await ok.close()
      await failing.close()
    }
  })
})
