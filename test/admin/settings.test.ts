// Settings saved from the GUI hold only what the user chose, so a later `berth serve` on a
// network address does not inherit "open writes" that were only ever the loopback default; open
// writes where other machines can reach them need a confirmation for that very address.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createBerth, type Berth } from '../../server/berth'
import { berthOptionsFrom, loadSettings, resolveHttpsWrite } from '../../server/settings'
import { tempDir } from '../helpers/fixtures'

describe('settings', () => {
  let berth: Berth
  let dataDir: string
  let call: (channel: string, args?: object) => Promise<{ result?: Record<string, unknown>; error?: string }>
  const saved = () => JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'))

  before(async () => {
    dataDir = tempDir()
    berth = await createBerth({ dataDir, http: null, https: { host: '127.0.0.1', port: 0 }, mtls: null, admin: { host: '127.0.0.1', port: 0 } })
    const admin = berth.listeners.find((l) => l.kind === 'admin')!.url
    call = async (channel, args = {}) => {
      const response = await fetch(`${admin}/api/${channel}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${berth.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      })
      return (await response.json()) as { result?: Record<string, unknown>; error?: string }
    }
  })
  after(() => berth.close())

  it('saves only the setting that changed, so a later serve on a network address keeps users-only writes', async () => {
    const reply = await call('settings:update', { gcSchedule: 'daily' })
    assert.equal(reply.error, undefined)
    assert.deepEqual(saved(), { gcSchedule: 'daily' })
    assert.equal(reply.result!.httpsWrite, 'auto')
    assert.equal(reply.result!.httpsWriteInForce, 'open') // the running listener is on loopback

    const later = berthOptionsFrom({ https: '0.0.0.0:18443' }, loadSettings(dataDir))
    assert.equal(later.httpsWrite, 'auto')
    assert.equal(resolveHttpsWrite(later.httpsWrite, '0.0.0.0'), 'users')
  })

  it('refuses open writes on a network address without a confirmation, and binds the confirmation to that address', async () => {
    const refused = await call('settings:update', { https: '0.0.0.0:18443', httpsWrite: 'open' })
    assert.match(refused.error ?? '', /open writes on 0\.0\.0\.0:18443 let anyone on your network push/)
    assert.deepEqual(saved(), { gcSchedule: 'daily' })

    const confirmed = await call('settings:update', { https: '0.0.0.0:18443', httpsWrite: 'open', confirmOpenWrites: true })
    assert.equal(confirmed.error, undefined)
    assert.equal(confirmed.result!.restartNeeded, true)
    assert.deepEqual(saved(), { gcSchedule: 'daily', https: '0.0.0.0:18443', httpsWrite: 'open', openWritesConfirmedFor: '0.0.0.0:18443' })

    const sameAddress = berthOptionsFrom({}, loadSettings(dataDir))
    assert.equal(sameAddress.httpsWrite, 'open')
    assert.deepEqual(sameAddress.notices, [])

    // another address from the command line: the old confirmation does not carry over
    const otherAddress = berthOptionsFrom({ https: '0.0.0.0:19443' }, loadSettings(dataDir))
    assert.equal(otherAddress.httpsWrite, 'users')
    assert.match(otherAddress.notices[0], /not confirmed for 0\.0\.0\.0:19443/)

    // an explicit flag is a current choice
    assert.equal(berthOptionsFrom({ https: '0.0.0.0:19443', httpsWrite: 'open' }, loadSettings(dataDir)).httpsWrite, 'open')
  })

  it('reads the older name "basic" as users', async () => {
    const reply = await call('settings:update', { https: '127.0.0.1:0', httpsWrite: 'basic' })
    assert.equal(reply.error, undefined)
    assert.equal(reply.result!.httpsWrite, 'users')
    assert.equal(reply.result!.httpsWriteInForce, 'users')
  })
})
