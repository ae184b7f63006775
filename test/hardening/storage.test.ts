// A full disk and a database another process has locked: the server stays up, answers writes it
// cannot take with 507 or 503 + Retry-After, keeps serving reads, never blocks the event loop for
// seconds, and leaves a store fsck finds clean.
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runBerth, startBerth } from '../helpers/berth-process'
import { atExit } from '../helpers/cleanup'
import { tempDir } from '../helpers/fixtures'
import { digestOf, pushImage } from '../helpers/http-client'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' })
    atExit(() => {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'ignore' })
      } catch {
        // already gone
      }
    })
    return undefined
  } catch {
    return 'mounting a tmpfs needs root (a full disk is simulated with one)'
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now()
  const value = await work()
  return { value, ms: performance.now() - start }
}

const mountPoint = join(tempDir(), 'small-disk')
mkdirSync(mountPoint)
const noTmpfs = process.getuid?.() === 0 ? mountTmpfs(mountPoint, '64m') : 'mounting a tmpfs needs root'

describe('storage failures', () => {
  it('a full disk: pulls go on, writes get 507 with the OCI body, the server stays up, and it recovers', { skip: noTmpfs }, async () => {
    const dataDir = join(mountPoint, 'data')
    const server = await startBerth(dataDir)
    try {
      await pushImage(server.http, 'app', 'v1', { layerBytes: 100_000 })
      const fill = join(mountPoint, 'fill')
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${fill}`, 'bs=1M'], { stdio: 'ignore' })
      } catch {
        // dd stops with "No space left on device": the disk is full
      }
      for (let i = 0; i < 20; i++) assert.equal((await fetch(`${server.http}/v2/app/manifests/v1`)).status, 200)
      // the activity flush runs 200 ms later: the process must still be there after it
      await new Promise((resolve) => setTimeout(resolve, 1500))
      assert.equal(server.child.exitCode, null, 'the server is still running')

      const blob = Buffer.alloc(3 << 20, 7)
      const refused = await fetch(`${server.http}/v2/app/blobs/uploads/?digest=${digestOf(blob)}`, { method: 'POST', body: blob })
      assert.equal(refused.status, 507)
      const error = (await refused.json()) as { errors: { code: string; message: string }[] }
      assert.match(error.errors[0].message, /disk is full/)
      assert.equal((await fetch(`${server.http}/v2/`)).status, 200)
      assert.equal((await fetch(`${server.http}/v2/app/manifests/v1`)).status, 200)

      rmSync(fill)
      await pushImage(server.http, 'app', 'v2', { layerBytes: 100_000 })
      assert.equal((await fetch(`${server.http}/v2/app/manifests/v2`)).status, 200)
      const online = await runBerth(['fsck', '--data-dir', dataDir])
      assert.equal(online.code, 0, online.stdout)
    } finally {
      assert.equal(await server.stop(), 0)
    }
    const fsck = await runBerth(['fsck', '--data-dir', dataDir])
    assert.equal(fsck.code, 0, fsck.stdout)
  })

  it('a database locked by another process: no stall, 503 with Retry-After for writes, reads and the server go on', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir)
    try {
      await pushImage(server.http, 'app', 'v1')
      // another process holds an exclusive lock for 6 s
      const holder = spawn(
        process.execPath,
        [
          '-e',
          `const db = new (require('better-sqlite3'))(${JSON.stringify(join(dataDir, 'berth.db'))});
           db.exec('BEGIN EXCLUSIVE'); console.log('locked'); setTimeout(() => { db.exec('COMMIT'); db.close() }, 6000)`,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      )
      atExit(() => holder.kill('SIGKILL'))
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()))

      const ping = await timed(() => fetch(`${server.http}/v2/`))
      assert.equal(ping.value.status, 200)
      assert.ok(ping.ms < 1000, `GET /v2/ took ${ping.ms} ms`)
      const pull = await timed(() => fetch(`${server.http}/v2/app/manifests/v1`))
      assert.equal(pull.value.status, 200)
      assert.ok(pull.ms < 1000, `a pull took ${pull.ms} ms`)

      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] })
      const write = await timed(() =>
        fetch(`${server.http}/v2/app/manifests/v2`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } }),
      )
      assert.equal(write.value.status, 503)
      assert.ok(Number(write.value.headers.get('retry-after')) > 0)
      assert.equal(((await write.value.json()) as { errors: { code: string }[] }).errors[0].code, 'UNAVAILABLE')
      assert.ok(write.ms < 2000, `the refused write took ${write.ms} ms`)
      // while it is held, the event loop keeps answering
      for (let i = 0; i < 10; i++) {
        const again = await timed(() => fetch(`${server.http}/v2/`))
        assert.ok(again.ms < 500, `GET /v2/ took ${again.ms} ms while the lock was held`)
      }

      await new Promise<void>((resolve) => holder.once('exit', () => resolve()))
      assert.equal(server.child.exitCode, null, 'the server is still running')
      await pushImage(server.http, 'app', 'v3')
      // the pulls recorded while the lock was held are written once it is free
      await new Promise((resolve) => setTimeout(resolve, 1500))
      const fsck = JSON.parse((await runBerth(['fsck', '--json', '--data-dir', dataDir])).stdout) as { problems: unknown[] }
      assert.deepEqual(fsck.problems, [])
    } finally {
      assert.equal(await server.stop(), 0)
    }
  })
})
