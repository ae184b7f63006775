// Big blob bodies over a real connection: whole, in ranges that cross the server's 1 MiB read
// buffers, over TLS, and clients that hang up mid-body (the server closes its file and serves
// the next pull whole: a buffer a dead socket held is never read into again).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { request, type IncomingMessage } from 'node:http'
import { get as httpsGet } from 'node:https'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { digestOf, pushBlobHttp } from '../helpers/http-client'

const MiB = 1 << 20

/** the server's open descriptors on blob files */
function openBlobFiles(pid: number): number {
  const fds = readdirSync(`/proc/${pid}/fd`)
  let count = 0
  for (const fd of fds) {
    try {
      if (/\/blobs\/sha256\//.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) count++
    } catch {
      // closed meanwhile
    }
  }
  return count
}

/** GETs a URL and hangs up after the first `bytes` of the body. */
function pullAndHangUp(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, (response) => {
      let received = 0
      response.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (received >= bytes) {
          req.destroy()
          resolve(received)
        }
      })
    })
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)))
    req.end()
  })
}

describe('blob transfer', () => {
  it('sends big blobs whole and in ranges, over HTTP and TLS, and survives clients that hang up', async () => {
    const server = await startBerth(tempDir())
    try {
      const blob = randomBytes(5 * MiB + 12345)
      const digest = await pushBlobHttp(server.http, 'big', blob)
      const url = `${server.http}/v2/big/blobs/${digest}`

      const whole = Buffer.from(await (await fetch(url)).arrayBuffer())
      assert.equal(whole.length, blob.length)
      assert.equal(digestOf(whole), digest)

      for (const [start, end] of [[MiB - 10, MiB + 10], [0, 0], [3 * MiB, 5 * MiB + 12344], [2 * MiB + 7, 4 * MiB + 3]]) {
        const response = await fetch(url, { headers: { Range: `bytes=${start}-${end}` } })
        assert.equal(response.status, 206)
        assert.equal(response.headers.get('content-range'), `bytes ${start}-${end}/${blob.length}`)
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(blob.subarray(start, end + 1)), `bytes ${start}-${end}`)
      }
      const suffix = await fetch(url, { headers: { Range: 'bytes=-1000' } })
      assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(blob.subarray(blob.length - 1000)))

      const ca = readFileSync(join(server.dataDir, 'pki', 'ca.crt'), 'utf8')
      const overTls = await new Promise<IncomingMessage>((resolve, reject) => httpsGet(`${server.urls.https}/v2/big/blobs/${digest}`, { ca }, resolve).on('error', reject))
      assert.equal(overTls.statusCode, 200)
      const chunks: Buffer[] = []
      for await (const chunk of overTls) chunks.push(chunk as Buffer)
      assert.equal(digestOf(Buffer.concat(chunks)), digest)

      // clients that go away after 100 KiB and after 2 MiB, several at once
      await Promise.all([1, 2, 3, 4, 5, 6].map((i) => pullAndHangUp(url, i % 2 ? 100 * 1024 : 2 * MiB)))
      for (let i = 0; i < 6; i++) assert.equal(digestOf(Buffer.from(await (await fetch(url)).arrayBuffer())), digest)
      // every file the cut pulls opened is closed again
      let open = openBlobFiles(server.pid)
      for (let wait = 0; open > 0 && wait < 50; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        open = openBlobFiles(server.pid)
      }
      assert.equal(open, 0, 'no blob file left open')
    } finally {
      await server.stop()
    }
  })
})
