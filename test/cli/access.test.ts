// The access commands as a script uses them: groups, grants, checks with exit codes, robot
// tokens printed once, htpasswd import (bcrypt only, naming a bad line) and export. Against a
// running server, so each change is also seen by the live registry at once.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import bcrypt from 'bcryptjs'
import { runBerth, startBerth, type BerthServer } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { basic, tlsRequest } from '../helpers/tls-client'

describe('berth group, access, token and user import/export', () => {
  let server: BerthServer
  let ca: string
  const berth = (...args: string[]) => runBerth([...args, '--data-dir', server.dataDir])
  const canPush = async (authorization: string, repository: string) => {
    const token = await tlsRequest({ url: `${server.urls.https}/token?service=berth&scope=repository:${repository}:push`, ca, headers: { authorization } })
    return (JSON.parse(token.body) as { token: string }).token && JSON.parse(Buffer.from(JSON.parse(token.body).token.split('.')[1], 'base64url').toString()).access[0].actions.includes('push')
  }

  before(async () => {
    server = await startBerth(tempDir(), ['--https-write', 'users', '--admin', 'off'])
    ca = readFileSync(join(server.dataDir, 'pki', 'ca.crt'), 'utf8')
  })
  after(async () => {
    await server?.stop()
  })

  it('imports bcrypt users from htpasswd, refuses other hash kinds naming the line, and exports them again', async () => {
    const file = join(tempDir(), 'htpasswd')
    writeFileSync(file, `# team\nalice:${bcrypt.hashSync('alice-pw', 4).replace('$2b$', '$2y$')}\nbob:${bcrypt.hashSync('bob-pw', 4)}\n`)
    const imported = await berth('user', 'import', file)
    assert.equal(imported.code, 0, imported.stderr)
    assert.match(imported.stdout, /imported 2 users: alice, bob/)
    assert.ok(await canPush(basic('alice', 'alice-pw'), 'apps/x'))

    const bad = join(tempDir(), 'bad')
    writeFileSync(bad, `carol:${bcrypt.hashSync('x', 4)}\ndave:$apr1$abc$def\n`)
    const refused = await berth('user', 'import', bad)
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /line 2 \(dave\): only bcrypt hashes can be imported .*Apache MD5/)
    assert.doesNotMatch((await berth('user', 'list')).stdout, /carol/, 'nothing of a refused file is imported')

    const exported = await berth('user', 'export')
    assert.match(exported.stdout, /^alice:\$2y\$04\$.{53}\nbob:\$2y\$04\$.{53}\n$/)
  })

  it('manages groups and grants, explains decisions with exit codes, and the running server follows at once', async () => {
    assert.equal((await berth('group', 'add', 'web', '--member', 'alice')).code, 0)
    assert.match((await berth('group', 'list')).stdout, /web\s+alice/)
    assert.equal((await berth('access', 'revoke', 'authenticated', 'push', '*')).code, 0)
    assert.equal(await canPush(basic('alice', 'alice-pw'), 'apps/web/site'), false)
    assert.equal((await berth('access', 'grant', 'group:web', 'push,delete', 'apps/web/')).code, 0)
    assert.equal(await canPush(basic('alice', 'alice-pw'), 'apps/web/site'), true)

    const allow = await berth('access', 'check', 'user:alice', 'push', 'apps/web/site')
    assert.equal(allow.code, 0)
    assert.equal(allow.stdout.trim(), 'allow: granted: group:web push apps/web/')
    const deny = await berth('access', 'check', 'user:bob', 'push', 'apps/web/site')
    assert.equal(deny.code, 1)
    assert.equal(deny.stdout.trim(), 'deny: no grant gives user:bob push on apps/web/site')
    assert.equal((await berth('access', 'check', 'anonymous', 'pull', 'users/alice/x')).code, 1)

    const list = JSON.parse((await berth('access', 'list', '--json')).stdout)
    assert.deepEqual(list, [
      { who: 'anonymous', action: 'pull', prefix: '*' },
      { who: 'group:web', action: 'delete', prefix: 'apps/web/' },
      { who: 'group:web', action: 'push', prefix: 'apps/web/' },
    ])
    for (const args of [['grant', 'somebody', 'pull', 'x/'], ['grant', 'user:a', 'fly', 'x/'], ['grant', 'user:a', 'pull', 'Not A Prefix']]) {
      const bad = await berth('access', ...args)
      assert.equal(bad.code, 2, args.join(' '))
    }
    assert.equal((await berth('group', 'member', 'remove', 'web', 'alice')).code, 0)
    assert.equal(await canPush(basic('alice', 'alice-pw'), 'apps/web/site'), false)
  })

  it('creates a robot token printed once, lists it without the secret, and revokes it', async () => {
    const created = await berth('token', 'create', 'ci', '--scope', 'apps/ci/:pull,push', '--expires', '30d')
    assert.equal(created.code, 0, created.stderr)
    const secret = created.stdout.trim()
    assert.match(secret, /^berth_rt_[\w-]{32}$/)
    assert.equal(await canPush(basic('anyone', secret), 'apps/ci/job'), true)
    const listed = await berth('token', 'list')
    assert.match(listed.stdout, /^ci\s+valid\s+apps\/ci\/:pull,push\s+expires 20/m)
    assert.ok(!listed.stdout.includes(secret))
    assert.equal((await berth('token', 'create', 'ci', '--scope', 'x/:pull')).code, 2, 'names are unique')
    assert.equal((await berth('token', 'revoke', 'ci')).code, 0)
    const after = await tlsRequest({ url: `${server.urls.https}/token?service=berth`, ca, headers: { authorization: basic('anyone', secret) } })
    assert.equal(after.status, 401)
  })
})
