// The real Docker Engine and containerd (`ctr --hosts-dir`) against berth serve with users on the
// TLS listener and the token protocol: anonymous pulls, docker login that checks the password,
// pushes after it, the access rules, docker search; why plain Basic fails Docker; and why Docker
// cannot use a loopback mTLS port (what the doctor says).
import assert from 'node:assert/strict'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { authority, runBerth, startBerth, type BerthServer } from '../helpers/berth-process'
import { buildImage, run } from '../helpers/containers'
import { dockerMissing, loadIntoDocker, startDockerEngine, type DockerEngine } from '../helpers/docker'
import { tempDir } from '../helpers/fixtures'

const skip = await dockerMissing()

/** The docker-style name of a listener: localhost:PORT (docker sees it as an insecure registry). */
const localhostName = (url: string) => `localhost:${new URL(url).port}`

async function manifestDigest(server: BerthServer, repository: string, tag: string): Promise<string> {
  const response = await fetch(`${server.http}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  })
  assert.equal(response.status, 200, `${repository}:${tag}`)
  return response.headers.get('docker-content-digest')!
}

describe('Docker Engine and containerd with tokens', () => {
  let engine: DockerEngine
  let server: BerthServer
  let work: string
  let tls: string
  let mtls: string

  before(async () => {
    if (skip) return
    work = tempDir()
    engine = await startDockerEngine()
    server = await startBerth(join(work, 'data'), ['--https-write', 'users', '--admin', 'off'])
    tls = localhostName(server.urls.https)
    mtls = localhostName(server.urls.mtls)
    assert.equal((await runBerth(['user', 'add', 'alice', '--password-stdin', '--data-dir', server.dataDir], { input: 's3cret\n' })).code, 0)
    const image = await buildImage(work, { bytes: 200_000 })
    // the seed image goes in over plain HTTP
    await run('skopeo', ['copy', '--dest-tls-verify=false', `containers-storage:${image}`, `docker://${authority(server.http)}/app:1`])
    await loadIntoDocker(engine, image, 'berth-test/local:1', work)
  })
  after(async () => {
    if (skip) return
    await server?.stop()
    await engine?.stop()
  })

  it('docker pulls anonymously (a Bearer challenge and an anonymous token)', { skip }, async () => {
    const pull = await engine.docker(['pull', `${tls}/app:1`])
    assert.ok(pull.ok, pull.output)
    const inspect = await engine.docker(['image', 'inspect', '--format', '{{join .RepoDigests " "}}', `${tls}/app:1`])
    assert.match(inspect.output, new RegExp(await manifestDigest(server, 'app', '1')))
  })

  it('docker login refuses a wrong password and accepts the right one; docker push works after it', { skip }, async () => {
    const wrong = await engine.docker(['login', '-u', 'alice', '--password-stdin', tls], { input: 'nope\n' })
    assert.equal(wrong.ok, false)
    assert.match(wrong.output, /unauthorized/i)
    const right = await engine.docker(['login', '-u', 'alice', '--password-stdin', tls], { input: 's3cret\n' })
    assert.ok(right.ok, right.output)
    assert.match(right.output, /Login Succeeded/)

    assert.ok((await engine.docker(['tag', 'berth-test/local:1', `${tls}/team/app:2`])).ok)
    const push = await engine.docker(['push', `${tls}/team/app:2`])
    assert.ok(push.ok, push.output)
    const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(push.output)![1]
    assert.equal(await manifestDigest(server, 'team/app', '2'), pushed)
  })

  it("docker is refused another user's private repository with the rule's words, and search lists only what it may pull", { skip }, async () => {
    const tag = await engine.docker(['tag', 'berth-test/local:1', `${tls}/users/bob/secret:1`])
    assert.ok(tag.ok, tag.output)
    const denied = await engine.docker(['push', `${tls}/users/bob/secret:1`])
    assert.equal(denied.ok, false)
    assert.match(denied.output, /denied: .*users\/bob\/ is private to user:bob/, denied.output)

    await run('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${authority(server.http)}/app:1`, `docker://${authority(server.http)}/users/bob/hidden:1`])
    const search = await engine.docker(['search', '--format', '{{.Name}}', `${tls}/a`])
    assert.ok(search.ok, search.output)
    const names = search.output.trim().split('\n')
    assert.ok(names.includes('app') && names.includes('team/app'), search.output)
    assert.ok(!names.some((n) => n.startsWith('users/bob')), search.output)
  })

  it('ctr pulls anonymously and pushes as a user through hosts.toml from `trust install --target containerd`, and over mTLS with its client certificate', { skip }, async () => {
    const root = tempDir()
    const install = await runBerth(['trust', 'install', '--target', 'containerd', '--root', root, '--endpoint', tls, '--endpoint', mtls, '--data-dir', server.dataDir])
    assert.equal(install.code, 0, install.stdout + install.stderr)
    const hostsDir = join(root, 'etc', 'containerd', 'certs.d')
    const ctr = (args: string[]) => run('ctr', ['--address', engine.containerdSocket, 'images', ...args], { timeout: 120_000 })
    await ctr(['pull', '--hosts-dir', hostsDir, `${tls}/app:1`])
    await ctr(['tag', `${tls}/app:1`, `${tls}/ctr/app:1`])
    await assert.rejects(ctr(['push', '--hosts-dir', hostsDir, '--user', 'alice:wrong', `${tls}/ctr/app:1`]))
    await ctr(['push', '--hosts-dir', hostsDir, '--user', 'alice:s3cret', `${tls}/ctr/app:1`])
    await ctr(['tag', `${tls}/app:1`, `${mtls}/ctr/mtls:1`])
    await ctr(['push', '--hosts-dir', hostsDir, `${mtls}/ctr/mtls:1`])
    const digest = await manifestDigest(server, 'app', '1')
    assert.equal(await manifestDigest(server, 'ctr/app', '1'), digest)
    assert.equal(await manifestDigest(server, 'ctr/mtls', '1'), digest)
  })

  it('docker sends no client certificate to a loopback mTLS port even with certs.d installed, and the doctor says so', { skip }, async () => {
    const folder = join('/etc/docker/certs.d', mtls)
    const install = await runBerth(['trust', 'install', '--target', 'docker', '--endpoint', mtls, '--data-dir', server.dataDir])
    try {
      assert.equal(install.code, 0, install.stdout + install.stderr)
      assert.ok((await engine.docker(['tag', 'berth-test/local:1', `${mtls}/app:3`])).ok)
      const push = await engine.docker(['push', `${mtls}/app:3`])
      assert.equal(push.ok, false, 'docker pushed to the mTLS port')
      assert.match(push.output, /certificate required|EOF|bad certificate/i)
      const doctor = await runBerth(['trust', 'doctor', '--target', 'docker', '--endpoint', mtls, '--data-dir', server.dataDir])
      assert.equal(doctor.code, 1)
      assert.match(doctor.stdout, /never reads certs\.d for them/)
      assert.match(doctor.stdout, /docker login/)
    } finally {
      await runBerth(['trust', 'uninstall', '--target', 'docker', '--endpoint', mtls, '--data-dir', server.dataDir])
      rmSync(folder, { recursive: true, force: true })
    }
  })
})

describe('Docker Engine and plain Basic', () => {
  it('cannot pull anonymously from a registry whose /v2/ sends a Basic challenge (why tokens are the default)', { skip }, async () => {
    const work = tempDir()
    mkdirSync(join(work, 'data'))
    const engine = await startDockerEngine()
    const server = await startBerth(join(work, 'data'), ['--https-write', 'users', '--auth', 'basic', '--admin', 'off'])
    try {
      const image = await buildImage(work, { bytes: 50_000 })
      await run('skopeo', ['copy', '--dest-tls-verify=false', `containers-storage:${image}`, `docker://${authority(server.http)}/app:1`])
      const pull = await engine.docker(['pull', `${localhostName(server.urls.https)}/app:1`])
      assert.equal(pull.ok, false)
      // the engine's log says "no basic auth credentials"; the CLI shows its HTTP fallback's EOF
      assert.match(pull.output, /no basic auth credentials|unauthorized|EOF/i)
    } finally {
      await server.stop()
      await engine.stop()
    }
  })
})
