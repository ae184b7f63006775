// A server certificate of the user's own (mkcert, a company CA) instead of one from Berth's CA:
// `berth serve --tls-cert FILE --tls-key FILE`. The paths are remembered in the data dir so the
// CLI (`berth trust`, `berth cert ca`) works from the same certificate while the server is down;
// a serve without the flags forgets them. Berth never renews or reissues such a certificate.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { KeyAndCertificate } from './certificates'

export class OwnCertificateError extends Error {}

export interface OwnCertificate extends KeyAndCertificate {
  certPath: string
  keyPath: string
  /** what clients must trust: the last certificate of the file (put your CA there), else the certificate itself */
  anchorPem: string
}

const REMEMBERED = 'own-certificate.json'
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Reads and checks a certificate file (leaf first, then its chain) and its private key. */
export function loadOwnCertificate(certPath: string, keyPath: string, now = Date.now()): OwnCertificate {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path, 'utf8')
    } catch (error) {
      throw new OwnCertificateError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  const certPem = read(certPath, 'certificate')
  const keyPem = read(keyPath, 'private key')
  const blocks = certPem.match(PEM_BLOCK) ?? []
  if (blocks.length === 0) throw new OwnCertificateError(`${certPath} holds no PEM certificate`)
  let leaf: X509Certificate
  try {
    leaf = new X509Certificate(blocks[0]!)
  } catch (error) {
    throw new OwnCertificateError(`${certPath}: not a certificate (${(error as Error).message})`)
  }
  let matches = false
  try {
    matches = leaf.checkPrivateKey(createPrivateKey(keyPem))
  } catch (error) {
    throw new OwnCertificateError(`${keyPath}: not a private key (${(error as Error).message})`)
  }
  if (!matches) throw new OwnCertificateError(`${keyPath} is not the private key of ${certPath}`)
  if (new Date(leaf.validTo).getTime() < now) throw new OwnCertificateError(`${certPath} expired on ${new Date(leaf.validTo).toISOString()}`)
  return { certPem, keyPem, certPath, keyPath, anchorPem: `${blocks[blocks.length - 1]}\n` }
}

/** Remembers (or, with null, forgets) the own certificate's paths for the CLI. */
export function rememberOwnCertificate(pkiDir: string, own: { certPath: string; keyPath: string } | null): void {
  const path = join(pkiDir, REMEMBERED)
  if (own === null) return rmSync(path, { force: true })
  writeFileSync(path, `${JSON.stringify({ certPath: own.certPath, keyPath: own.keyPath }, null, 2)}\n`, { mode: 0o600 })
}

/** The remembered own certificate, when there is one and it still loads. */
export function rememberedOwnCertificate(pkiDir: string): OwnCertificate | undefined {
  const path = join(pkiDir, REMEMBERED)
  if (!existsSync(path)) return undefined
  try {
    const { certPath, keyPath } = JSON.parse(readFileSync(path, 'utf8')) as { certPath: string; keyPath: string }
    return loadOwnCertificate(certPath, keyPath)
  } catch {
    return undefined
  }
}
