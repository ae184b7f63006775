// What a newcomer meets in the first hour: a stop right after "ready", output piped into head,
// help that lines up, clear words for a bad data dir or repository name, deletions that say
// when GC made them permanent, and start-up lines that say where the data is and who may write.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runBerth, startBerth } from '../helpers/berth-process'
import { pushImage } from '../helpers/http-client'
import { tempDir } from '../helpers/fixtures'

const BIN = fileURLToPath(new URL('../../bin/berth.mjs', import.meta.url))

/** Runs `berth ARGS | head -1` in bash with pipefail: the exit status is berth's. */
function pipedIntoHead(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  return new Promise((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', `${quoted} | head -1`])
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe('the first hour', () => {
  it('stops cleanly with exit 0 when SIGTERM comes right after "berth: ready", 20 times in a row', async () => {
    const dataDir = tempDir()
    for (let i = 0; i < 20; i++) {
      const server = await startBerth(dataDir, ['--admin', 'off'])
      assert.equal(await server.stop(), 0, `stop ${i + 1}: ${server.stdout()}`)
    }
    const fsck = await runBerth(['fsck', '--data-dir', dataDir])
    assert.equal(fsck.code, 0, fsck.stdout)
  })

  it('says where the data is and who may write on each listener', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir, ['--https-write', 'off'])
    try {
      const out = server.stdout()
      assert.match(out, new RegExp(`^berth: data ${dataDir}$`, 'm'))
      assert.match(out, /^berth: registry http  http:\/\/127\.0\.0\.1:\d+  open$/m)
      assert.match(out, /^berth: registry https https:\/\/127\.0\.0\.1:\d+  pull-only$/m)
      assert.match(out, /^berth: registry mtls  https:\/\/127\.0\.0\.1:\d+  clients with a certificate$/m)
    } finally {
      await server.stop()
    }
  })

  it('ends quietly when its reader goes away (| head -1), with no EPIPE', async () => {
    const dataDir = tempDir()
    const root = tempDir()
    for (let i = 0; i < 3; i++) {
      for (const args of [['--help'], ['trust', 'status', '--target', 'all', '--root', root, '--data-dir', dataDir]]) {
        const result = await pipedIntoHead(args)
        assert.doesNotMatch(result.stderr, /EPIPE|Unhandled|at .*\.js/, args.join(' '))
        assert.equal(result.stdout.split('\n').filter(Boolean).length, 1)
        // trust status exits 1 because nothing is installed there; what matters is no crash (which exits 1 too)
        if (args[0] === '--help') assert.equal(result.code, 0)
      }
    }
  })

  it('lines up every command in --help', async () => {
    const help = (await runBerth(['--help'])).stdout
    const rows = help.split('\n').filter((line) => /^ {2}\w/.test(line))
    assert.ok(rows.some((row) => row.trimStart().startsWith('deletions')))
    const columns = new Set(rows.map((row) => /^ {2}\S+\s+/.exec(row)![0].length))
    assert.equal(columns.size, 1, help)
  })

  it('says a data dir that is a file is a file, and tightens a data dir others may read', async () => {
    const dataDir = join(tempDir(), 'open')
    mkdirSync(dataDir, { mode: 0o755 })
    const result = await runBerth(['gc', '--dry-run', '--data-dir', dataDir])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /readable by others \(mode 755\); it is now 0700/)
    assert.equal(statSync(dataDir).mode & 0o777, 0o700)
  })

  it('names an invalid repository name as such, and marks deletions GC made permanent', async () => {
    const dataDir = tempDir()
    const bad = await runBerth(['delete', 'Bad Name', '--data-dir', dataDir])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid repository name: "Bad Name"/)

    const server = await startBerth(dataDir)
    try {
      await pushImage(server.http, 'app', 'v1', { layerBytes: 2000 })
      await pushImage(server.http, 'app', 'v2', { layerBytes: 2000 })
      assert.equal((await runBerth(['delete', 'app:v1', '--data-dir', dataDir])).code, 0)
      assert.equal((await runBerth(['delete', 'app:v2', '--data-dir', dataDir])).code, 0)
      assert.equal((await runBerth(['undo', '--data-dir', dataDir])).code, 0)
      let list = (await runBerth(['deletions', '--data-dir', dataDir])).stdout
      assert.match(list, /tag\s+app v2\s+\(undone\)/)
      assert.match(list, /tag\s+app v1\s+\(undoable\)/)
      assert.equal((await runBerth(['gc', '--untagged', '--data-dir', dataDir])).code, 0)
      list = (await runBerth(['deletions', '--data-dir', dataDir])).stdout
      assert.match(list, /tag\s+app v1\s+\(permanent\)/)
      const undo = await runBerth(['undo', '1', '--data-dir', dataDir])
      assert.equal(undo.code, 2)
      assert.match(undo.stderr, /too late to undo/)
    } finally {
      await server.stop()
    }
  })

  it('deletes several tags of one repository as one deletion, and one undo restores them', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir)
    try {
      for (const tag of ['a', 'b', 'c']) await pushImage(server.http, 'app', tag)
      const mixed = await runBerth(['delete', 'app:a', 'other:b', '--data-dir', dataDir])
      assert.equal(mixed.code, 2)
      assert.match(mixed.stderr, /one deletion covers one repository/)
      const deleted = await runBerth(['delete', 'app:a', 'app:b', '--data-dir', dataDir])
      assert.equal(deleted.code, 0, deleted.stderr)
      assert.match(deleted.stdout, /deleted 2 tags of app \(deletion \d+;/)
      for (const tag of ['a', 'b']) assert.equal((await fetch(`${server.http}/v2/app/manifests/${tag}`, { method: 'HEAD' })).status, 404)
      assert.equal((await fetch(`${server.http}/v2/app/manifests/c`, { method: 'HEAD' })).status, 200)
      assert.equal((await runBerth(['undo', '--data-dir', dataDir])).code, 0)
      for (const tag of ['a', 'b']) assert.equal((await fetch(`${server.http}/v2/app/manifests/${tag}`, { method: 'HEAD' })).status, 200)
    } finally {
      await server.stop()
    }
  })
})
