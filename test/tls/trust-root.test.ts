// `berth trust` into a scratch --root: it finds the clients and the system trust store inside that
// root, never writes what uninstall would leave behind, and keeps the client certificates it
// issues for mTLS in step with the folders (revoked ones are replaced, removed ones revoked).
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'

const MTLS = 'localhost:5444'

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length))
}

async function certificates(dataDir: string): Promise<{ serial: string; name: string; state: string }[]> {
  return JSON.parse((await runBerth(['cert', 'list', '--json', '--data-dir', dataDir])).stdout)
}

describe('trust into a --root', () => {
  it('refuses the system store when the root has none, writing nothing', async () => {
    const dataDir = tempDir()
    const root = tempDir()
    const install = await runBerth(['trust', 'install', '--target', 'system', '--root', root, '--data-dir', dataDir])
    assert.equal(install.code, 2, install.stdout)
    assert.match(install.stderr, new RegExp(`no known system trust store under ${root}`))
    assert.deepEqual(filesUnder(root), [])
  })

  it('installs the CA into a Debian root, says which command to run there, and uninstall removes all of it', async () => {
    const dataDir = tempDir()
    const root = tempDir()
    mkdirSync(join(root, 'etc'))
    writeFileSync(join(root, 'etc', 'debian_version'), '12.0\n')
    const install = await runBerth(['trust', 'install', '--target', 'system', '--root', root, '--data-dir', dataDir])
    assert.equal(install.code, 0, install.stdout + install.stderr)
    assert.match(install.stdout, /skip update-ca-certificates/)
    assert.ok(existsSync(join(root, 'usr/local/share/ca-certificates/berth-local-ca.crt')))
    assert.equal((await runBerth(['trust', 'status', '--target', 'system', '--root', root, '--data-dir', dataDir])).code, 0)
    // a second install finds it installed and still succeeds
    assert.equal((await runBerth(['trust', 'install', '--target', 'system', '--root', root, '--data-dir', dataDir])).code, 0)
    const uninstall = await runBerth(['trust', 'uninstall', '--target', 'system', '--root', root, '--data-dir', dataDir])
    assert.equal(uninstall.code, 0, uninstall.stdout + uninstall.stderr)
    assert.deepEqual(filesUnder(root), ['/etc/debian_version'])
  })

  it('with no --target, writes only for the clients found in the root and names the others as skipped', async () => {
    const dataDir = tempDir()
    const empty = tempDir()
    const none = await runBerth(['trust', 'install', '--root', empty, '--endpoint', 'localhost:5443', '--data-dir', dataDir])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /no container client found/)
    assert.deepEqual(filesUnder(empty), [])

    const root = tempDir()
    mkdirSync(join(root, 'etc', 'containers'), { recursive: true })
    const install = await runBerth(['trust', 'install', '--root', root, '--endpoint', 'localhost:5443', '--data-dir', dataDir], { env: { HOME: tempDir() } })
    assert.equal(install.code, 0, install.stdout + install.stderr)
    assert.match(install.stderr, /skipped docker: /)
    assert.match(install.stderr, /skipped containerd: /)
    assert.match(install.stderr, /skipped system: /)
    assert.deepEqual(filesUnder(root), ['/etc/containers/certs.d/localhost:5443/ca.crt'])
  })

  it('replaces a revoked client certificate on reinstall, and uninstall revokes what install issued', async () => {
    const dataDir = tempDir()
    const root = tempDir()
    const args = ['--target', 'podman', '--root', root, '--endpoint', MTLS, '--data-dir', dataDir]
    assert.equal((await runBerth(['trust', 'install', ...args])).code, 0)
    const [first] = await certificates(dataDir)
    assert.deepEqual([first.name, first.state], ['trust-podman', 'valid'])

    assert.equal((await runBerth(['cert', 'revoke', first.serial, '--data-dir', dataDir])).code, 0)
    const status = await runBerth(['trust', 'status', '--json', ...args])
    assert.equal(status.code, 1)
    assert.equal(JSON.parse(status.stdout)[0].state, 'outdated')

    assert.equal((await runBerth(['trust', 'install', ...args])).code, 0)
    assert.equal((await runBerth(['trust', 'status', ...args])).code, 0)
    const afterReinstall = await certificates(dataDir)
    assert.equal(afterReinstall.filter((c) => c.state === 'valid').length, 1)

    const uninstall = await runBerth(['trust', 'uninstall', ...args])
    assert.equal(uninstall.code, 0)
    assert.match(uninstall.stdout, /revoked client certificate/)
    assert.deepEqual((await certificates(dataDir)).filter((c) => c.state === 'valid'), [])
    assert.deepEqual(filesUnder(root), [])
  })
})
