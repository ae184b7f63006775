// The user's own server certificate (serve --tls-cert/--tls-key), made here by a throwaway
// "company CA" with openssl: both TLS listeners present it; `berth cert ca`, trust install and
// the doctor work from its CA; skopeo pushes through the trust Berth wrote, to TLS and to mTLS;
// a key that does not match is refused; a serve without the flags goes back to Berth's.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { X509Certificate } from 'node:crypto'
import { describe, it } from 'node:test'
import { authority, runBerth, startBerth } from '../helpers/berth-process'
import { attempt, buildImage, missingTools } from '../helpers/containers'
import { tempDir } from '../helpers/fixtures'
import { tlsRequest } from '../helpers/tls-client'

const skip = spawnSync('openssl', ['version']).status !== 0 ? 'openssl is not installed' : await missingTools('skopeo', 'buildah')

function companyCertificates(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=Test Company CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost')
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
  ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '10', '-extfile', 'leaf.ext')
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'other.key', '-out', 'other.csr', '-subj', '/CN=other')
  writeFileSync(join(dir, 'chain.pem'), readFileSync(join(dir, 'leaf.crt'), 'utf8') + readFileSync(join(dir, 'ca.crt'), 'utf8'))
  return { chain: join(dir, 'chain.pem'), key: join(dir, 'leaf.key'), otherKey: join(dir, 'other.key'), ca: readFileSync(join(dir, 'ca.crt'), 'utf8'), leaf: readFileSync(join(dir, 'leaf.crt'), 'utf8') }
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256

describe('your own certificate', { skip, timeout: 300_000 }, () => {
  it('is served on TLS and mTLS, trusted through its CA by skopeo, and forgotten by a serve without it', async () => {
    const work = tempDir()
    const company = companyCertificates(work)
    const dataDir = join(work, 'data')
    const home = join(work, 'home')
    mkdirSync(home)

    const mismatched = await runBerth(['serve', '--tls-cert', company.chain, '--tls-key', company.otherKey, '--data-dir', dataDir, '--http', '127.0.0.1:0', '--https', '127.0.0.1:0', '--mtls', 'off'])
    assert.equal(mismatched.code, 2)
    assert.match(mismatched.stderr, /is not the private key of/)

    let server = await startBerth(dataDir, ['--tls-cert', company.chain, '--tls-key', company.key], { env: { HOME: home } })
    try {
      const https = authority(server.urls.https).replace('127.0.0.1', 'localhost')
      const viaCompany = await tlsRequest({ url: `${server.urls.https}/v2/`, ca: company.ca })
      assert.equal(viaCompany.status, 200, 'verified with the company CA')
      const berthCa = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8')
      await assert.rejects(tlsRequest({ url: `${server.urls.https}/v2/`, ca: berthCa }), /self-signed|unable to (get|verify)/i, "Berth's CA does not vouch for it")

      const ca = await runBerth(['cert', 'ca', '--data-dir', dataDir])
      assert.equal(fingerprint(ca.stdout), fingerprint(company.ca), 'berth cert ca prints the CA clients must trust now')

      const install = await runBerth(['trust', 'install', '--target', 'podman-rootless', '--data-dir', dataDir], { env: { HOME: home } })
      assert.equal(install.code, 0, install.stdout + install.stderr)
      const certsDir = join(home, '.config', 'containers', 'certs.d')
      assert.equal(fingerprint(readFileSync(join(certsDir, https, 'ca.crt'), 'utf8')), fingerprint(company.ca))
      const doctor = await runBerth(['trust', 'doctor', '--target', 'podman-rootless', '--data-dir', dataDir], { env: { HOME: home } })
      assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr)

      const image = await buildImage(work, { bytes: 10_000 })
      const pushed = await attempt('skopeo', ['copy', '--dest-cert-dir', join(certsDir, https), `containers-storage:${image}`, `docker://${https}/own/app:v1`])
      assert.ok(pushed.ok, pushed.output)
      const mtls = authority(server.urls.mtls).replace('127.0.0.1', 'localhost')
      const viaMtls = await attempt('skopeo', ['copy', '--dest-cert-dir', join(certsDir, mtls), `containers-storage:${image}`, `docker://${mtls}/own/app:v2`])
      assert.ok(viaMtls.ok, viaMtls.output)
      assert.equal((await fetch(`${server.http}/v2/own/app/manifests/v2`, { method: 'HEAD' })).status, 200)
    } finally {
      await server.stop()
    }

    server = await startBerth(dataDir)
    try {
      const back = await tlsRequest({ url: `${server.urls.https}/v2/`, ca: readFileSync(join(dataDir, 'pki', 'ca.crt')) })
      assert.equal(back.status, 200, "without the flags, Berth's own certificate again")
      assert.notEqual(fingerprint((await runBerth(['cert', 'ca', '--data-dir', dataDir])).stdout), fingerprint(company.ca))
    } finally {
      await server.stop()
    }
  })
})
