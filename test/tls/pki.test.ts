import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { issueServerCertificate } from '../../server/tls/certificates'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'

function openssl(args: string[]): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) }
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

describe('the local CA', () => {
  it('is created on first use with owner-only keys, and `cert ca --fingerprint` prints its SHA-256', async () => {
    const dataDir = tempDir()
    const fp = await runBerth(['cert', 'ca', '--fingerprint', '--data-dir', dataDir])
    assert.equal(fp.code, 0, fp.stderr)
    const pki = join(dataDir, 'pki')
    for (const key of ['ca.key', 'client-ca.key', 'server.key']) assert.equal(statSync(join(pki, key)).mode & 0o777, 0o600, key)
    const ca = readFileSync(join(pki, 'ca.crt'), 'utf8')
    assert.equal(fp.stdout.trim(), new X509Certificate(ca).fingerprint256)
    const opensslFp = openssl(['x509', '-in', join(pki, 'ca.crt'), '-noout', '-fingerprint', '-sha256']).output
    assert.match(opensslFp, new RegExp(fp.stdout.trim()))
    const pem = await runBerth(['cert', 'ca', '--data-dir', dataDir])
    assert.equal(pem.stdout, ca)
  })

  it('is name-constrained: openssl verify rejects a certificate for a public name it signed', async () => {
    const dataDir = tempDir()
    await runBerth(['cert', 'ca', '--data-dir', dataDir])
    const pki = join(dataDir, 'pki')
    const authority = { certPem: readFileSync(join(pki, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(pki, 'ca.key'), 'utf8') }
    const work = tempDir()
    const evil = issueServerCertificate(authority, ['example.com'])
    writeFileSync(join(work, 'evil.pem'), evil.certPem)
    const rejected = openssl(['verify', '-CAfile', join(pki, 'ca.crt'), join(work, 'evil.pem')])
    assert.equal(rejected.ok, false)
    assert.match(rejected.output, /permitted subtree violation|name constraint/i)
    const evilIp = issueServerCertificate(authority, ['8.8.8.8'])
    writeFileSync(join(work, 'evil-ip.pem'), evilIp.certPem)
    assert.equal(openssl(['verify', '-CAfile', join(pki, 'ca.crt'), join(work, 'evil-ip.pem')]).ok, false)
    const fine = openssl(['verify', '-CAfile', join(pki, 'ca.crt'), join(pki, 'server.crt')])
    assert.equal(fine.ok, true, fine.output)
  })

  it('issues a server certificate for the names clients use, within what macOS accepts', async () => {
    const dataDir = tempDir()
    await runBerth(['cert', 'ca', '--data-dir', dataDir])
    const server = new X509Certificate(readFileSync(join(dataDir, 'pki', 'server.crt')))
    for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:host.docker.internal']) {
      assert.ok(server.subjectAltName?.includes(name), `${name} in ${server.subjectAltName}`)
    }
    const days = (Date.parse(server.validTo) - Date.now()) / 86_400_000
    assert.ok(days > 390 && days <= 398, `${days} days`)
  })

  it('reissues the server certificate for --host names and refuses names outside the constraints', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir, ['--host', '192.168.77.7', '--host', 'devbox.local'])
    const cert = new X509Certificate(readFileSync(join(dataDir, 'pki', 'server.crt')))
    assert.match(cert.subjectAltName ?? '', /IP Address:192\.168\.77\.7/)
    assert.match(cert.subjectAltName ?? '', /DNS:devbox\.local/)
    assert.match(cert.subjectAltName ?? '', /DNS:localhost/)
    assert.equal(await server.stop(), 0)
    const refused = await runBerth(['serve', '--data-dir', dataDir, '--http', 'off', '--https', '127.0.0.1:0', '--mtls', 'off', '--host', 'registry.example.com'])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /registry\.example\.com is outside the names/)
  })
})

describe('client certificates', () => {
  it('issues a certs.d bundle, lists it, and revokes it by name', async () => {
    const dataDir = tempDir()
    const out = join(tempDir(), 'bundle')
    const issued = await runBerth(['cert', 'client', 'ci-runner', '--out', out, '--data-dir', dataDir])
    assert.equal(issued.code, 0, issued.stderr)
    assert.equal(statSync(join(out, 'client.key')).mode & 0o777, 0o600)
    const cert = new X509Certificate(readFileSync(join(out, 'client.cert')))
    assert.match(cert.subject, /CN=ci-runner/)
    assert.equal(readFileSync(join(out, 'ca.crt'), 'utf8'), readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8'))
    const list = JSON.parse((await runBerth(['cert', 'list', '--json', '--data-dir', dataDir])).stdout)
    assert.equal(list.length, 1)
    assert.equal(list[0].serial, cert.serialNumber.toLowerCase())
    assert.equal(list[0].state, 'valid')
    assert.equal((await runBerth(['cert', 'revoke', 'ci-runner', '--data-dir', dataDir])).code, 0)
    const after = JSON.parse((await runBerth(['cert', 'list', '--json', '--data-dir', dataDir])).stdout)
    assert.equal(after[0].state, 'revoked')
    assert.equal((await runBerth(['cert', 'revoke', 'nobody', '--data-dir', dataDir])).code, 1)
    assert.equal((await runBerth(['cert', 'client', '--data-dir', dataDir])).code, 2)
  })
})
