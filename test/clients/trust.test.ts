// Trust proven with real clients: skopeo and podman over TLS and mTLS, reading only what
// `berth trust install` and `berth cert client` wrote.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { authority, runBerth, startBerth, type BerthServer } from '../helpers/berth-process'
import { attempt, buildImage, missingTools, run, uniqueName } from '../helpers/containers'
import { tempDir } from '../helpers/fixtures'

const skip = await missingTools('skopeo', 'podman', 'buildah')
const UNKNOWN_AUTHORITY = /unknown authority|x509/i

describe('trust with real clients', () => {
  let server: BerthServer
  let work: string
  let layout: string
  let image: string
  let https: string
  let mtls: string

  before(async () => {
    if (skip) return
    work = tempDir('berth-trust-')
    server = await startBerth(tempDir())
    https = authority(server.urls.https)
    mtls = authority(server.urls.mtls)
    image = await buildImage(work, { bytes: 300_000 })
    layout = `oci:${join(work, 'layout')}:app`
    await run('buildah', ['push', '-q', image, layout])
  })

  it('before trust is installed, skopeo and podman fail with an unknown-authority error', { skip }, async () => {
    const skopeo = await attempt('skopeo', ['copy', layout, `docker://${https}/trust/before:v1`])
    assert.equal(skopeo.ok, false)
    assert.match(skopeo.output, UNKNOWN_AUTHORITY)
    const podman = await attempt('podman', ['push', image, `${https}/trust/before:v1`])
    assert.equal(podman.ok, false)
    assert.match(podman.output, UNKNOWN_AUTHORITY)
    const doctor = await runBerth(['trust', 'doctor', '--target', 'podman', '--root', tempDir(), '--data-dir', server.dataDir])
    assert.equal(doctor.code, 1)
    assert.match(doctor.stdout, /FAIL .*no CA where/)
  })

  it('after `trust install --target podman --root`, skopeo and podman push and pull with only that folder', { skip }, async () => {
    const root = tempDir()
    const install = await runBerth(['trust', 'install', '--target', 'podman', '--root', root, '--data-dir', server.dataDir, '--json'])
    assert.equal(install.code, 0, install.stderr)
    const results = JSON.parse(install.stdout) as { target: string; endpoint: string; state: string; files: string[] }[]
    assert.deepEqual([...new Set(results.map((r) => r.state))], ['installed'])
    assert.deepEqual(results.map((r) => r.endpoint).sort(), [`127.0.0.1:${server.urls.https.split(':')[2]}`, `127.0.0.1:${server.urls.mtls.split(':')[2]}`, `localhost:${server.urls.https.split(':')[2]}`, `localhost:${server.urls.mtls.split(':')[2]}`].sort())
    const folder = join(root, 'etc/containers/certs.d', https)
    assert.ok(existsSync(join(folder, 'ca.crt')))

    await run('skopeo', ['copy', '--dest-cert-dir', folder, layout, `docker://${https}/trust/skopeo:v1`])
    const tag = uniqueName('t')
    await run('podman', ['push', '--cert-dir', folder, image, `${https}/trust/podman:${tag}`])
    await run('podman', ['pull', '-q', '--cert-dir', folder, `${https}/trust/podman:${tag}`])
    await run('podman', ['rmi', '-f', `${https}/trust/podman:${tag}`]).catch(() => {})
    const localhostFolder = join(root, 'etc/containers/certs.d', https.replace('127.0.0.1', 'localhost'))
    await run('skopeo', ['inspect', '--cert-dir', localhostFolder, `docker://${https.replace('127.0.0.1', 'localhost')}/trust/skopeo:v1`])

    // the mTLS folder got a client certificate issued for podman: it pushes over mTLS
    const mtlsFolder = join(root, 'etc/containers/certs.d', mtls)
    assert.ok(existsSync(join(mtlsFolder, 'client.cert')) && existsSync(join(mtlsFolder, 'client.key')))
    await run('skopeo', ['copy', '--dest-cert-dir', mtlsFolder, layout, `docker://${mtls}/trust/mtls-installed:v1`])

    const doctor = await runBerth(['trust', 'doctor', '--target', 'podman', '--root', root, '--data-dir', server.dataDir])
    assert.equal(doctor.code, 0, doctor.stdout)
    const uninstall = await runBerth(['trust', 'uninstall', '--target', 'podman', '--root', root, '--data-dir', server.dataDir])
    assert.equal(uninstall.code, 0, uninstall.stdout)
    assert.equal(existsSync(folder), false)
  })

  it('as root: installs into the real /etc/containers/certs.d, podman pushes with no flags at all, then uninstalls', { skip: skip || (process.getuid?.() !== 0 ? 'needs root' : false) }, async () => {
    const real = join('/etc/containers/certs.d', https)
    try {
      const install = await runBerth(['trust', 'install', '--target', 'podman', '--data-dir', server.dataDir])
      assert.equal(install.code, 0, install.stdout + install.stderr)
      assert.ok(existsSync(join(real, 'ca.crt')))
      const tag = uniqueName('t')
      await run('podman', ['push', image, `${https}/trust/noflags:${tag}`])
      await run('skopeo', ['inspect', `docker://${https}/trust/noflags:${tag}`])
    } finally {
      const uninstall = await runBerth(['trust', 'uninstall', '--target', 'podman', '--data-dir', server.dataDir])
      assert.equal(uninstall.code, 0, uninstall.stdout + uninstall.stderr)
    }
    assert.equal(existsSync(real), false)
    const status = JSON.parse((await runBerth(['trust', 'status', '--target', 'podman', '--json', '--data-dir', server.dataDir])).stdout)
    assert.ok(status.every((s: { state: string }) => s.state === 'missing'))
  })

  it('mTLS: pushes with a `cert client` folder; fails without a client certificate, with a foreign one, and after revocation', { skip }, async () => {
    const bundle = join(tempDir(), 'ci')
    assert.equal((await runBerth(['cert', 'client', 'ci-job', '--out', bundle, '--data-dir', server.dataDir])).code, 0)
    await run('skopeo', ['copy', '--dest-cert-dir', bundle, layout, `docker://${mtls}/trust/mtls:v1`])

    const caOnly = tempDir()
    writeFileSync(join(caOnly, 'ca.crt'), readFileSync(join(bundle, 'ca.crt')))
    const without = await attempt('skopeo', ['copy', '--dest-cert-dir', caOnly, layout, `docker://${mtls}/trust/mtls:nocert`])
    assert.equal(without.ok, false)
    assert.match(without.output, /certificate required|bad certificate|handshake|tls/i)

    const foreign = tempDir()
    writeFileSync(join(foreign, 'ca.crt'), readFileSync(join(bundle, 'ca.crt')))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(foreign, 'client.key'), '-out', join(foreign, 'client.cert'), '-subj', '/CN=intruder', '-days', '1'], { stdio: 'ignore' })
    const intruder = await attempt('skopeo', ['copy', '--dest-cert-dir', foreign, layout, `docker://${mtls}/trust/mtls:foreign`])
    assert.equal(intruder.ok, false)

    assert.equal((await runBerth(['cert', 'revoke', 'ci-job', '--data-dir', server.dataDir])).code, 0)
    const revoked = await attempt('skopeo', ['copy', '--dest-cert-dir', bundle, layout, `docker://${mtls}/trust/mtls:revoked`])
    assert.equal(revoked.ok, false)
  })
})

describe('users (tokens) and pull-only with real clients', () => {
  let work: string
  let layout: string
  let image: string

  before(async () => {
    if (skip) return
    work = tempDir('berth-auth-')
    image = await buildImage(work, { bytes: 200_000 })
    layout = `oci:${join(work, 'layout')}:app`
    await run('buildah', ['push', '-q', image, layout])
  })

  it('podman login with a wrong password fails; with the right one, push works; buildah pushes with --creds; anonymous pulls and podman search still work', { skip }, async () => {
    const server = await startBerth(tempDir(), ['--https-write', 'basic'])
    const https = authority(server.urls.https)
    const certs = tempDir()
    assert.equal((await runBerth(['cert', 'ca', '--out', join(certs, 'ca.crt'), '--data-dir', server.dataDir])).code, 0)
    assert.equal((await runBerth(['user', 'add', 'dev', '--password-stdin', '--data-dir', server.dataDir], { input: 'right-password\n' })).code, 0)
    const authfile = join(tempDir(), 'auth.json')

    const anonymousPush = await attempt('skopeo', ['copy', '--dest-cert-dir', certs, layout, `docker://${https}/auth/app:anon`])
    assert.equal(anonymousPush.ok, false)
    assert.match(anonymousPush.output, /unauthorized|authentication required/i)

    const wrong = await attempt('sh', ['-c', `echo wrong | podman login --authfile ${authfile} --cert-dir ${certs} -u dev --password-stdin ${https}`])
    assert.equal(wrong.ok, false)
    const right = await attempt('sh', ['-c', `echo right-password | podman login --authfile ${authfile} --cert-dir ${certs} -u dev --password-stdin ${https}`])
    assert.equal(right.ok, true, right.output)
    const tag = uniqueName('t')
    await run('podman', ['push', '--authfile', authfile, '--cert-dir', certs, image, `${https}/auth/app:${tag}`])

    const pulled = join(tempDir(), 'pulled')
    mkdirSync(pulled)
    await run('skopeo', ['copy', '--src-cert-dir', certs, `docker://${https}/auth/app:${tag}`, `oci:${pulled}:app`])
    const manifests = await (await fetch(`${server.http}/v2/auth/app/manifests/${tag}`)).json()
    assert.equal(manifests.schemaVersion, 2)

    const wrongCreds = await attempt('buildah', ['push', '--cert-dir', certs, '--creds', 'dev:nope', image, `docker://${https}/auth/buildah:1`])
    assert.equal(wrongCreds.ok, false)
    assert.match(wrongCreds.output, /unauthorized|invalid username\/password/i)
    await run('buildah', ['push', '--cert-dir', certs, '--creds', 'dev:right-password', image, `docker://${https}/auth/buildah:1`])
    assert.equal((await fetch(`${server.http}/v2/auth/buildah/manifests/1`)).status, 200)

    // podman search lists what anyone may pull (through the catalog and an anonymous token)
    const search = await run('podman', ['search', '--tls-verify=false', `${https}/auth`])
    assert.match(search, new RegExp(`${https}/auth/app`))
    assert.match(search, new RegExp(`${https}/auth/buildah`))
    assert.equal(await server.stop(), 0)
  })

  it('the pull-only listener refuses pushes while pulls work', { skip }, async () => {
    const server = await startBerth(tempDir(), ['--https-write', 'off'])
    const https = authority(server.urls.https)
    const certs = tempDir()
    await runBerth(['cert', 'ca', '--out', join(certs, 'ca.crt'), '--data-dir', server.dataDir])
    await run('skopeo', ['copy', '--dest-tls-verify=false', layout, `docker://${authority(server.http)}/ro/app:v1`])
    const push = await attempt('skopeo', ['copy', '--dest-cert-dir', certs, layout, `docker://${https}/ro/app:v2`])
    assert.equal(push.ok, false)
    assert.match(push.output, /denied/i)
    const pulled = join(tempDir(), 'pulled')
    await run('skopeo', ['copy', '--src-cert-dir', certs, `docker://${https}/ro/app:v1`, `oci:${pulled}:app`])
    assert.equal(await server.stop(), 0)
  })
})
