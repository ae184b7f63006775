// One address cannot use up the connections every client shares: past the per-address cap its
// connections are refused with 429, while another client still gets in, even when the server
// has only 256 file descriptors. Upload bodies that stall are cut; slow but moving ones live.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, describe, it } from 'node:test'
import { buildRegistryApp } from '../../server/registry/app'
import { Store } from '../../server/store/store'
import { startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { request } from 'node:http'
import { missingTools } from '../helpers/containers'

const noPrlimit = await missingTools('prlimit')

function openFrom(localAddress: string, port: number): Promise<{ socket: Socket; answer: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress })
    let text = ''
    const answer = new Promise<string>((done) => {
      socket.on('data', (d) => (text += d))
      socket.on('close', () => done(text))
      socket.on('error', () => done(text))
    })
    socket.once('connect', () => resolve({ socket, answer }))
    socket.once('error', reject)
  })
}

describe('connection limits', () => {
  const sockets: Socket[] = []
  after(() => sockets.forEach((s) => s.destroy()))

  it('a flood of 300 idle connections from 127.0.0.2 does not starve a client on 127.0.0.1 (256 descriptors)', { skip: noPrlimit }, async () => {
    const server = await startBerth(tempDir(), ['--https', 'off', '--mtls', 'off', '--admin', 'off'], { wrapper: ['prlimit', '--nofile=256:256'] })
    try {
      const port = Number(new URL(server.http).port)
      const answers: Promise<string>[] = []
      for (let i = 0; i < 300; i++) {
        const { socket, answer } = await openFrom('127.0.0.2', port)
        sockets.push(socket)
        answers.push(answer)
      }
      const legit = await fetch(`${server.http}/v2/`)
      assert.equal(legit.status, 200)
      const refused = await Promise.race([Promise.all(answers.slice(64)), new Promise<string[]>((resolve) => setTimeout(() => resolve([]), 5000))])
      assert.equal(refused.length, 236)
      assert.ok(refused.every((text) => text.startsWith('HTTP/1.1 429') && text.includes('TOOMANYREQUESTS')))
      sockets.forEach((s) => s.destroy())
      await new Promise((resolve) => setTimeout(resolve, 300))
      // the flood is gone: that address may connect again
      assert.equal((await fetch(`${server.http}/v2/`)).status, 200)
    } finally {
      assert.equal(await server.stop(), 0)
    }
  })

  it('cuts an upload body that stalls, and keeps one that trickles', async () => {
    const store = await Store.open(tempDir())
    const app = await buildRegistryApp({ store, policy: { deleteEnabled: true }, connectionLimits: { perAddress: 64, minimumBytes: 1024, windowMs: 3000 } })
    await app.listen({ host: '127.0.0.1', port: 0 })
    try {
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
      const session = async () => `${base}${(await fetch(`${base}/v2/slow/blobs/uploads/`, { method: 'POST' })).headers.get('location')}`
      const body = Buffer.alloc(16_000, 1)
      const patch = (url: string) => {
        const req = request(url, { method: 'PATCH', headers: { 'content-length': String(body.length), 'content-type': 'application/octet-stream' } })
        const outcome = new Promise<number | Error>((resolve) => {
          req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)))
          req.on('error', resolve)
        })
        return { req, outcome }
      }
      const began = Date.now()
      const stalled = patch(await session())
      stalled.req.write(body.subarray(0, 10))
      const trickle = patch(await session())
      let sent = 0
      const feed = setInterval(() => {
        trickle.req.write(body.subarray(sent, sent + 2000))
        sent += 2000
        if (sent >= body.length) {
          clearInterval(feed)
          trickle.req.end()
        }
      }, 1000)
      const cut = await stalled.outcome
      assert.ok(cut instanceof Error, `the stalled upload got ${String(cut)}`)
      assert.ok(Date.now() - began < 8000, 'cut within the window and a check')
      assert.equal(await trickle.outcome, 202, 'the slow but moving upload finished')
      assert.ok(Date.now() - began >= 7000, 'the trickle outlived the window')
    } finally {
      await app.close()
      store.close()
    }
  })
})
