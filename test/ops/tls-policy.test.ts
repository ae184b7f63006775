// The TLS listeners' policy, checked with openssl s_client as a client would connect: TLS 1.2
// only with ECDHE and AEAD ciphers (a CBC suite with RSA key transport is refused), TLS 1.3
// accepted, TLS 1.1 refused.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { authority, startBerth, type BerthServer } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'

const skip = spawnSync('openssl', ['version']).status === 0 ? false : 'openssl is not installed'

function handshake(address: string, flags: string[]): { ok: boolean; output: string } {
  const result = spawnSync('openssl', ['s_client', '-connect', address, '-servername', 'localhost', ...flags], { input: '', encoding: 'utf8', timeout: 20_000 })
  const output = `${result.stdout}${result.stderr}`
  // a handshake that completed names the cipher it agreed on
  return { ok: /Cipher is (?!\(NONE\))\S+/.test(output) && !/Cipher is \(NONE\)/.test(output), output }
}

describe('TLS policy', { skip }, () => {
  let server: BerthServer
  let address: string
  before(async () => {
    server = await startBerth(join(tempDir(), 'data'))
    address = authority(server.urls.https)
  })
  after(async () => {
    await server?.stop()
  })

  it('refuses a CBC suite without forward secrecy (AES128-SHA) and TLS 1.1', () => {
    assert.equal(handshake(address, ['-tls1_2', '-cipher', 'AES128-SHA']).ok, false)
    assert.equal(handshake(address, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA']).ok, false, 'ECDHE with CBC is refused too')
    assert.equal(handshake(address, ['-tls1_1']).ok, false)
  })

  it('accepts TLS 1.2 with ECDHE and GCM, and TLS 1.3', () => {
    const gcm = handshake(address, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256'])
    assert.equal(gcm.ok, true, gcm.output)
    const tls13 = handshake(address, ['-tls1_3'])
    assert.equal(tls13.ok, true, tls13.output)
    assert.match(tls13.output, /TLSv1\.3/)
  })
})
