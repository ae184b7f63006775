import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'

describe('berth serve', () => {
  it('prints the listener and ready lines, answers /v2/ within a second of ready, and exits 0 on SIGTERM', async () => {
    const server = await startBerth(tempDir())
    assert.match(server.stdout(), /^berth: registry http  http:\/\/127\.0\.0\.1:\d+  open$/m)
    assert.match(server.stdout(), /^berth: ready$/m)
    const response = await fetch(`${server.http}/v2/`)
    assert.equal(response.status, 200)
    assert.ok(Date.now() - server.readyAt < 1000, 'answered within a second of ready')
    assert.equal(await server.stop(), 0)
  })

  it('keeps what was pushed across a restart', async () => {
    const dataDir = tempDir()
    let server = await startBerth(dataDir)
    const data = Buffer.from('persistent')
    const digest = 'sha256:' + (await import('node:crypto')).createHash('sha256').update(data).digest('hex')
    const put = await fetch(`${server.http}/v2/keep/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data })
    assert.equal(put.status, 201)
    assert.equal(await server.stop(), 0)
    server = await startBerth(dataDir)
    const get = await fetch(`${server.http}/v2/keep/blobs/${digest}`)
    assert.equal(Buffer.from(await get.arrayBuffer()).toString(), 'persistent')
    assert.equal(await server.stop(), 0)
  })

  it('a port in use: one clear line on stderr and exit 2', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as { port: number }).port
    try {
      const result = await runBerth(['serve', '--data-dir', tempDir(), '--http', `127.0.0.1:${port}`])
      assert.equal(result.code, 2)
      assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*already in use`))
      assert.equal(result.stderr.trim().split('\n').length, 1)
    } finally {
      blocker.close()
    }
  })

  it('an unusable data dir: exit 2 with the reason', async () => {
    const file = join(tempDir(), 'not-a-dir')
    writeFileSync(file, 'x')
    const result = await runBerth(['serve', '--data-dir', file, '--http', '127.0.0.1:0'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /data dir .*not-a-dir is a file, not a folder/)
    assert.doesNotMatch(result.stderr, /EEXIST/)
  })

  it('bad flags and addresses: exit 2', async () => {
    for (const args of [['--bogus'], ['--http', 'nowhere'], ['--http', '127.0.0.1:99999'], ['--delete', 'maybe'], ['--http', '0.0.0.0:0']]) {
      const result = await runBerth(['serve', '--data-dir', tempDir(), ...args])
      assert.equal(result.code, 2, args.join(' '))
      assert.ok(result.stderr.trim().length > 0, args.join(' '))
    }
    const unknown = await runBerth(['frobnicate'])
    assert.equal(unknown.code, 2)
  })

  it('refuses a second server on the same data dir', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir)
    const second = await runBerth(['serve', '--data-dir', dataDir, '--http', '127.0.0.1:0'])
    assert.equal(second.code, 2)
    assert.match(second.stderr, /another Berth process/)
    assert.equal(await server.stop(), 0)
  })

  it('--delete off answers registry deletes with 405', async () => {
    const server = await startBerth(tempDir(), ['--delete', 'off'])
    const response = await fetch(`${server.http}/v2/repo/manifests/latest`, { method: 'DELETE' })
    assert.equal(response.status, 405)
    assert.equal((await response.json()).errors[0].code, 'UNSUPPORTED')
    await server.stop()
  })

  it('--help documents every flag and exits 0', async () => {
    const result = await runBerth(['serve', '--help'])
    assert.equal(result.code, 0)
    for (const flag of ['--data-dir', '--http', '--delete']) assert.match(result.stdout, new RegExp(flag))
  })

  it('BERTH_DATA_DIR chooses the data dir when --data-dir is absent', async () => {
    const dataDir = tempDir()
    const result = await runBerth(['fsck', '--json'], { env: { BERTH_DATA_DIR: dataDir } })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(JSON.parse(result.stdout).clean, true)
  })
})
