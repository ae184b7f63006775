// The access log (--log-format): one line per request with listener, method, repository and
// reference, status, bytes, duration and identity; never a password, token or upload id.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { pushImage } from '../helpers/http-client'
import { basic, tlsRequest } from '../helpers/tls-client'

describe('access log', () => {
  it('writes one JSON line per request, with who asked, and no secret', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir, ['--https-write', 'users', '--log-format', 'json'])
    try {
      await runBerth(['user', 'add', 'alice', '--password-stdin', '--data-dir', dataDir], { input: 's3cret-pass\n' })
      const digest = await pushImage(server.http, 'app', 'v1', { layerBytes: 3000 })
      const start = await fetch(`${server.http}/v2/app/blobs/uploads/`, { method: 'POST' })
      const uploadId = start.headers.get('location')!.split('/').pop()!.split('?')[0]
      const ca = readFileSync(join(dataDir, 'pki', 'ca.crt'))
      const token = JSON.parse((await tlsRequest({ url: `${server.urls.https}/token?service=berth&scope=repository:app:pull`, ca, headers: { Authorization: basic('alice', 's3cret-pass') } })).body).token as string
      const pulled = await tlsRequest({ url: `${server.urls.https}/v2/app/manifests/v1`, ca, headers: { Authorization: `Bearer ${token}`, Accept: 'application/vnd.oci.image.manifest.v1+json' } })
      assert.equal(pulled.status, 200)
      await new Promise((resolve) => setTimeout(resolve, 200))

      const lines = server
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      const manifestPut = lines.find((l) => l.method === 'PUT' && l.repository === 'app' && l.reference === 'v1')
      assert.ok(manifestPut, 'the manifest push is logged')
      assert.equal(manifestPut.listener, 'http')
      assert.equal(manifestPut.status, 201)
      assert.ok((manifestPut.bytesIn as number) > 0)
      const pull = lines.find((l) => l.method === 'GET' && l.listener === 'https' && l.reference === 'v1')
      assert.ok(pull, 'the pull over TLS is logged')
      assert.equal(pull.identity, 'alice')
      assert.equal(pull.status, 200)
      assert.equal(pull.bytesOut, Buffer.byteLength(pulled.body))
      assert.equal(typeof pull.ms, 'number')
      assert.ok(lines.some((l) => l.route === '/token' && l.status === 200))
      assert.ok(digest.startsWith('sha256:'))

      const all = server.stdout()
      for (const secret of ['s3cret-pass', token, uploadId, Buffer.from('alice:s3cret-pass').toString('base64')]) {
        assert.equal(all.includes(secret), false, `the log holds ${secret.slice(0, 12)}…`)
      }
    } finally {
      await server.stop()
    }
  })

  it('writes text lines, and refuses an unknown format', async () => {
    const server = await startBerth(tempDir(), ['--log-format', 'text'])
    try {
      await fetch(`${server.http}/v2/nothing/manifests/latest`)
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.match(server.stdout(), /^\S+Z http 127\.0\.0\.1 GET nothing latest 404 in=0 out=\d+ \d+\.\dms anonymous$/m)
    } finally {
      await server.stop()
    }
    const bad = await runBerth(['serve', '--log-format', 'xml', '--data-dir', tempDir()])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--log-format takes text or json/)
  })
})
