// berth cert ca|client|list|revoke
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { resolveDataDir } from '../config'
import { operate } from './operate'
import { out, parseFlags, UsageError, type Command } from './usage'

export const certCommand: Command = {
  name: 'cert',
  summary: 'the CA, and client certificates for mTLS',
  help: `usage:
  berth cert ca [--out FILE] [--fingerprint]   the CA clients must trust (PEM) or its SHA-256 fingerprint:
                                               Berth's CA, or with serve --tls-cert the last
                                               certificate of that file
  berth cert client NAME --out DIR             DIR/client.cert, DIR/client.key, DIR/ca.crt (a certs.d folder)
  berth cert list [--json]                     issued client certificates, with serial and state
  berth cert revoke NAME|SERIAL                refused from the next handshake on

All take --data-dir DIR.`,

  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { 'data-dir': { type: 'string' }, out: { type: 'string' }, fingerprint: { type: 'boolean' }, json: { type: 'boolean' } },
      true,
    )
    const [action, target] = positionals
    if (values.help || action === undefined) {
      out(this.help)
      return action === undefined && !values.help ? 2 : 0
    }
    const dataDir = resolveDataDir(values['data-dir'])
    switch (action) {
      case 'ca': {
        const ca = await operate(dataDir, 'cert.ca', {})
        if (values.fingerprint) out(ca.fingerprint)
        else if (values.out) {
          await writeFile(resolve(values.out), ca.pem, { mode: 0o644 })
          out(`berth: wrote the CA certificate to ${resolve(values.out)} (SHA-256 ${ca.fingerprint})`)
        } else process.stdout.write(ca.pem)
        return 0
      }
      case 'client': {
        if (!target) throw new UsageError('berth cert client NAME --out DIR: the name is missing')
        if (!values.out) throw new UsageError('berth cert client NAME --out DIR: --out is missing')
        const bundle = await operate(dataDir, 'cert.client', { name: target })
        const dir = resolve(values.out)
        await mkdir(dir, { recursive: true, mode: 0o700 })
        // certs.d names: a .crt file is read as a CA, so the client certificate is client.cert
        await writeFile(join(dir, 'client.key'), bundle.keyPem, { mode: 0o600 })
        await writeFile(join(dir, 'client.cert'), bundle.certPem, { mode: 0o644 })
        await writeFile(join(dir, 'ca.crt'), bundle.caPem, { mode: 0o644 })
        out(`berth: issued client certificate ${target} (serial ${bundle.serial}) into ${dir}`)
        return 0
      }
      case 'list': {
        const list = await operate(dataDir, 'cert.list', {})
        if (values.json) out(JSON.stringify(list, null, 2))
        else if (list.length === 0) out('berth: no client certificates issued yet (berth cert client NAME --out DIR)')
        else for (const c of list) out(`${c.serial}  ${c.state.padEnd(7)}  ${new Date(c.notAfter).toISOString().slice(0, 10)}  ${c.name}`)
        return 0
      }
      case 'revoke': {
        if (!target) throw new UsageError('berth cert revoke NAME|SERIAL: say which')
        const revoked = await operate(dataDir, 'cert.revoke', { target })
        if (revoked.length === 0) {
          process.stderr.write(`berth cert: no valid client certificate named or numbered ${JSON.stringify(target)}\n`)
          return 1
        }
        for (const serial of revoked) out(`berth: revoked ${serial}`)
        return 0
      }
      default:
        throw new UsageError(`unknown cert action ${JSON.stringify(action)} (ca, client, list, revoke)`)
    }
  },
}
