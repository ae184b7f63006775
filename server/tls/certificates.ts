// Certificate building with node-forge. Keys come from Node's crypto (much faster than forge's).
import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import type Forge from 'node-forge'
import { forge } from './forge'
import { nameConstraintsExtension } from './name-constraints'

const DAY_MS = 24 * 60 * 60 * 1000
/** Under the 398 days macOS and browsers accept for TLS server certificates. */
export const SERVER_LIFETIME_DAYS = 397
export const CLIENT_LIFETIME_DAYS = 397
export const CA_LIFETIME_DAYS = 3650

export interface KeyAndCertificate {
  keyPem: string
  certPem: string
}

export interface IssuedCertificate extends KeyAndCertificate {
  serial: string
  notAfter: Date
}

function newKeyPair(): { forgeKey: Forge.pki.rsa.PrivateKey; publicKey: Forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
  const forgeKey = forge().pki.privateKeyFromPem(keyPem)
  return { forgeKey, publicKey: forge().pki.setRsaPublicKey(forgeKey.n, forgeKey.e), keyPem }
}

/** A positive serial number (20 random bytes, top bit clear), as hex. */
function newSerial(): string {
  const bytes = randomBytes(16)
  bytes[0] &= 0x7f
  bytes[0] |= 0x10
  return bytes.toString('hex')
}

function validity(cert: Forge.pki.Certificate, days: number): void {
  const now = Date.now()
  cert.validity.notBefore = new Date(now - 5 * 60 * 1000) // tolerate small clock skew
  cert.validity.notAfter = new Date(now + days * DAY_MS)
}

export function createCertificateAuthority(commonName: string, options: { dnsConstraints?: string[] } = {}): KeyAndCertificate {
  const { forgeKey, publicKey, keyPem } = newKeyPair()
  const cert = forge().pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = newSerial()
  validity(cert, CA_LIFETIME_DAYS)
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'Berth local registry' }]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    ...(options.dnsConstraints ? [nameConstraintsExtension(options.dnsConstraints)] : []),
  ])
  cert.sign(forgeKey, forge().md.sha256.create())
  return { keyPem, certPem: forge().pki.certificateToPem(cert) }
}

function issue(
  authority: KeyAndCertificate,
  subjectName: string,
  days: number,
  extensions: object[],
): IssuedCertificate {
  const caCert = forge().pki.certificateFromPem(authority.certPem)
  const caKey = forge().pki.privateKeyFromPem(authority.keyPem)
  const { publicKey, keyPem } = newKeyPair()
  const cert = forge().pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = newSerial()
  validity(cert, days)
  cert.setSubject([{ name: 'commonName', value: subjectName }])
  cert.setIssuer(caCert.subject.attributes)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    ...extensions,
  ])
  cert.sign(caKey, forge().md.sha256.create())
  return { keyPem, certPem: forge().pki.certificateToPem(cert), serial: cert.serialNumber, notAfter: cert.validity.notAfter }
}

/** A TLS server certificate for `names` (DNS names and IP addresses). */
export function issueServerCertificate(authority: KeyAndCertificate, names: string[]): IssuedCertificate {
  const altNames = names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name }))
  return issue(authority, 'Berth registry', SERVER_LIFETIME_DAYS, [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ])
}

/** A TLS client certificate whose common name is `name`. */
export function issueClientCertificate(authority: KeyAndCertificate, name: string): IssuedCertificate {
  return issue(authority, name, CLIENT_LIFETIME_DAYS, [
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ])
}

export function certificateInfo(certPem: string) {
  const x509 = new X509Certificate(certPem)
  return {
    subject: x509.subject,
    serial: x509.serialNumber.toLowerCase(),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    fingerprint: x509.fingerprint256,
    names: (x509.subjectAltName ?? '')
      .split(', ')
      .filter(Boolean)
      .map((entry) => canonicalName(entry.replace(/^(DNS|IP Address):/, ''))),
  }
}

/** One spelling per name: lower case, IPv6 compressed (0:0:0:0:0:0:0:1 is ::1). */
export function canonicalName(name: string): string {
  if (isIP(name) === 6) return new URL(`http://[${name}]/`).hostname.slice(1, -1)
  return name.toLowerCase()
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
