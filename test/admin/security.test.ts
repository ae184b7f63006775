// The admin listener refuses what it must: no token, a foreign Host (DNS rebinding), other
// origins, form posts; it never sends CORS headers and serves loopback only.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runBerth, startBerth, type BerthServer } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw HTTP request: fetch() will not send a Host header of our choosing. */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

describe('admin API security', () => {
  let server: BerthServer
  let base: string
  let token: string

  before(async () => {
    server = await startBerth(join(tempDir(), 'data'))
    const gui = new URL(server.urls.gui)
    token = gui.searchParams.get('token')!
    base = gui.origin
  })
  after(async () => {
    await server?.stop()
  })

  // Changes the last character, whatever it is: a fixed 'x' equals the real token once in 64 runs.
  const wrongToken = (real: string) => real.slice(0, -1) + (real.endsWith('x') ? 'y' : 'x')

  const api = (channel: string, headers: Record<string, string> = {}, body = '{}') =>
    send(`${base}/api/${channel}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body })

  it('prints a GUI URL on loopback with a long random token', () => {
    assert.match(server.urls.gui, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32,}$/)
  })

  it('serves the GUI page and the icon it names (no 404 in the browser)', async () => {
    const auth = { Authorization: `Bearer ${token}` }
    const page = await send(`${base}/`, { headers: auth })
    assert.equal(page.status, 200)
    const icon = /<link rel="icon"[^>]*href="\.\/([^"]+)"/.exec(page.body)?.[1]
    assert.ok(icon, 'the page names an icon')
    const answer = await send(`${base}/${icon}`, { headers: auth })
    assert.equal(answer.status, 200)
    assert.equal(answer.headers['content-type'], 'image/png')
  })

  it('answers 401 without a token, and with a wrong one, on the API and on the GUI', async () => {
    assert.equal((await api('overview:get')).status, 401)
    assert.equal((await api('overview:get', { Authorization: `Bearer ${wrongToken(token)}` })).status, 401)
    const page = await send(`${base}/`)
    assert.equal(page.status, 401)
    assert.match(JSON.parse(page.body).error, /token/)
    assert.equal((await send(`${base}/api/events`)).status, 401)
  })

  it('answers with the bearer token', async () => {
    const answer = await api('overview:get', { Authorization: `Bearer ${token}` })
    assert.equal(answer.status, 200)
    assert.equal(JSON.parse(answer.body).result.counts.repositories, 0)
  })

  it('refuses a Host header that does not name the listener, even with the token (DNS rebinding)', async () => {
    const port = new URL(base).port
    const answer = await api('overview:get', { Authorization: `Bearer ${token}`, Host: `attacker.example:${port}` })
    assert.equal(answer.status, 403)
    assert.match(JSON.parse(answer.body).error, /Host/)
    assert.equal((await api('overview:get', { Authorization: `Bearer ${token}`, Host: `127.0.0.1:${Number(port) + 1}` })).status, 403)
    assert.equal((await api('overview:get', { Authorization: `Bearer ${token}`, Host: `localhost:${port}` })).status, 200)
  })

  it('refuses cross-origin and cross-site requests and never sends CORS headers', async () => {
    const auth = { Authorization: `Bearer ${token}` }
    const foreign = await api('overview:get', { ...auth, Origin: 'http://attacker.example' })
    assert.equal(foreign.status, 403)
    assert.equal(foreign.headers['access-control-allow-origin'], undefined)
    assert.equal((await api('overview:get', { ...auth, 'Sec-Fetch-Site': 'cross-site' })).status, 403)
    const preflight = await send(`${base}/api/overview:get`, { method: 'OPTIONS', headers: { ...auth, Origin: 'http://attacker.example', 'Access-Control-Request-Method': 'POST' } })
    assert.notEqual(preflight.status, 204)
    assert.equal(preflight.headers['access-control-allow-origin'], undefined)
    const same = await api('overview:get', { ...auth, Origin: base })
    assert.equal(same.status, 200)
    assert.equal(same.headers['access-control-allow-origin'], undefined)
  })

  it('refuses a form post (no JSON content type)', async () => {
    const answer = await send(`${base}/api/users:add`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=x&password=y',
    })
    assert.equal(answer.status, 415)
    const users = await api('users:list', { Authorization: `Bearer ${token}` })
    assert.deepEqual(JSON.parse(users.body).result, [])
  })

  it('takes the token from the URL once: an HttpOnly SameSite cookie, and a redirect without it', async () => {
    const answer = await send(`${base}/?token=${token}`)
    assert.equal(answer.status, 303)
    assert.equal(answer.headers.location, '/')
    const cookie = String(answer.headers['set-cookie'])
    assert.match(cookie, /HttpOnly/)
    assert.match(cookie, /SameSite=Strict/)
    const page = await send(`${base}/`, { headers: { Cookie: cookie.split(';')[0] } })
    assert.equal(page.status, 200)
    assert.match(page.body, /<div id="root">/)
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'; script-src 'self'/)
    assert.equal(page.headers['x-frame-options'], 'DENY')
  })

  it('answers an unknown operation and bad arguments with an error in words', async () => {
    const unknown = await api('nothing:here', { Authorization: `Bearer ${token}` })
    assert.equal(unknown.status, 400)
    assert.match(JSON.parse(unknown.body).error, /unknown admin operation/)
    const missing = await api('repository:get', { Authorization: `Bearer ${token}` }, JSON.stringify({ name: 'nope' }))
    assert.equal(missing.status, 400)
    assert.equal(JSON.parse(missing.body).error, 'repository nope is not in the registry')
  })

  it('refuses to put the admin listener on a non-loopback address', async () => {
    const result = await runBerth(['serve', '--data-dir', tempDir(), '--http', '127.0.0.1:0', '--https', 'off', '--mtls', 'off', '--admin', '0.0.0.0:0'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /admin listener serves loopback only/)
  })
})
