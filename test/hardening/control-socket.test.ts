// The control socket carries passwords from the CLI to the server: it lives where only this user
// can create files, and the CLI sends nothing to a socket another user owns.
import assert from 'node:assert/strict'
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'

const uid = process.getuid?.() ?? 0
const deepDataDir = (base: string) => join(base, 'a-data-dir-whose-path-is-far-too-long-for-a-unix-socket', 'x'.repeat(60), 'data')

describe('the control socket', () => {
  it('moves to a private 0700 folder when the data dir is too deep, and the CLI reaches the server there', async () => {
    const tmp = tempDir()
    const env = { TMPDIR: tmp, XDG_RUNTIME_DIR: '' }
    const dataDir = deepDataDir(tempDir())
    const server = await startBerth(dataDir, ['--admin', 'off'], { env })
    try {
      const folder = join(tmp, `berth-${uid}`)
      assert.equal(statSync(folder).mode & 0o777, 0o700)
      const add = await runBerth(['user', 'add', 'carol', '--password-stdin', '--data-dir', dataDir], { input: 'secret\n', env })
      assert.equal(add.code, 0, add.stderr)
      assert.match((await runBerth(['user', 'list', '--data-dir', dataDir], { env })).stdout, /carol/)
    } finally {
      await server.stop()
    }
  })

  it('refuses a fallback folder that others may write into', async () => {
    const tmp = tempDir()
    mkdirSync(join(tmp, `berth-${uid}`))
    chmodSync(join(tmp, `berth-${uid}`), 0o777)
    const result = await runBerth(['serve', '--data-dir', deepDataDir(tempDir()), '--http', '127.0.0.1:0', '--https', 'off', '--mtls', 'off', '--admin', 'off'], {
      env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' },
    })
    assert.equal(result.code, 2)
    assert.match(result.stderr, /is not a private folder of this user/)
  })

  it('sends nothing to a socket another user owns', { skip: uid !== 0 ? 'needs root to give the socket to another user' : false }, async () => {
    const dataDir = tempDir()
    const received: Buffer[] = []
    const squatter = createServer((socket) => socket.on('data', (d) => received.push(d)))
    const path = join(dataDir, 'control.sock')
    await new Promise<void>((resolve) => squatter.listen(path, resolve))
    try {
      chownSync(path, 65534, 65534)
      const add = await runBerth(['user', 'add', 'carol', '--password-stdin', '--data-dir', dataDir], { input: 'secret\n' })
      assert.notEqual(add.code, 0)
      assert.match(add.stderr, /does not belong to this user/)
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.equal(Buffer.concat(received).length, 0, 'the squatter received nothing')
      assert.ok(existsSync(path))
    } finally {
      squatter.close()
    }
  })
})
