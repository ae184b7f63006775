// Health: /livez and /readyz on every registry listener (no credentials needed, even where
// writes need a login), and `berth status` with the same facts; a disk below the floor makes
// Berth not ready; no server means "not running" and exit 1.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { tlsRequest } from '../helpers/tls-client'

describe('health', () => {
  it('answers /livez and /readyz on the HTTP, TLS and mTLS listeners, and berth status agrees', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir, ['--https-write', 'users'])
    try {
      const live = await fetch(`${server.http}/livez`)
      assert.equal(live.status, 200)
      assert.deepEqual(await live.json(), { status: 'live' })
      const ready = await fetch(`${server.http}/readyz`)
      assert.equal(ready.status, 200)
      const body = (await ready.json()) as { status: string; checks: { store: { ok: boolean }; listeners: { up: string[] }; disk: { ok: boolean; free: number } } }
      assert.equal(body.status, 'ready')
      assert.equal(body.checks.store.ok, true)
      assert.equal(body.checks.listeners.up.length, 4, 'http, https, mtls and the admin listener')
      assert.ok(body.checks.disk.free > 0)

      const ca = readFileSync(join(dataDir, 'pki', 'ca.crt'))
      // the TLS listener asks writers to log in, but probes need no credentials
      const tls = await tlsRequest({ url: `${server.urls.https}/readyz`, ca })
      assert.equal(tls.status, 200)
      assert.equal(JSON.parse(tls.body).status, 'ready')
      const bundle = tempDir()
      await runBerth(['cert', 'client', 'probe', '--out', bundle, '--data-dir', dataDir])
      const mtls = await tlsRequest({ url: `${server.urls.mtls}/livez`, ca, cert: readFileSync(join(bundle, 'client.cert')), key: readFileSync(join(bundle, 'client.key')) })
      assert.equal(mtls.status, 200)

      const status = await runBerth(['status', '--data-dir', dataDir])
      assert.equal(status.code, 0, status.stdout + status.stderr)
      assert.match(status.stdout, /^berth: ready$/m)
      assert.match(status.stdout, /disk +ok: .* free, floor 512(\.0)? MiB/)
      const json = JSON.parse((await runBerth(['status', '--json', '--data-dir', dataDir])).stdout) as { running: boolean; status: string }
      assert.equal(json.running, true)
      assert.equal(json.status, 'ready')
    } finally {
      await server.stop()
    }
  })

  it('is not ready when the disk has less free space than the floor, and says why', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir, ['--min-free', '1000T'])
    try {
      const ready = await fetch(`${server.http}/readyz`)
      assert.equal(ready.status, 503)
      const body = (await ready.json()) as { status: string; checks: { disk: { ok: boolean; detail: string } } }
      assert.equal(body.status, 'not ready')
      assert.equal(body.checks.disk.ok, false)
      assert.match(body.checks.disk.detail, /below the floor/)
      assert.equal((await fetch(`${server.http}/livez`)).status, 200, 'still live')
      const status = await runBerth(['status', '--data-dir', dataDir])
      assert.equal(status.code, 1)
      assert.match(status.stdout, /^berth: not ready$/m)
      assert.match(status.stdout, /disk +FAIL/)
    } finally {
      await server.stop()
    }
  })

  it('says "not running" with exit 1 when no server runs on the data dir, and refuses a bad --min-free', async () => {
    const status = await runBerth(['status', '--data-dir', tempDir()])
    assert.equal(status.code, 1)
    assert.match(status.stdout, /not running/)
    const bad = await runBerth(['serve', '--min-free', 'lots', '--data-dir', tempDir()])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--min-free: not a size: "lots"/)
  })
})
