// The X.509 name-constraints extension (RFC 5280 §4.2.1.10) that confines Berth's CA to local
// names and private addresses, so trusting it can never endanger any other site.
import { isIP } from 'node:net'
import type Forge from 'node-forge'
import { forge } from './forge'


/** DNS subtrees: each covers the name itself and every name below it. */
export const LOCAL_DNS_SUFFIXES = ['localhost', 'local', 'internal', 'lan', 'home.arpa', 'test']

/** Loopback, private and link-local ranges, as CIDR. */
export const PRIVATE_RANGES = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
]

/** Whether a certificate name falls inside the constraints a CA was made with. */
export function isPermittedName(name: string, dnsSuffixes: string[]): boolean {
  const lower = name.toLowerCase()
  if (isIP(lower)) return PRIVATE_RANGES.some((range) => inCidr(lower, range))
  return dnsSuffixes.some((suffix) => lower === suffix || lower.endsWith(`.${suffix}`))
}

export function nameConstraintsExtension(dnsSuffixes: string[]): { id: string; critical: boolean; value: Forge.asn1.Asn1 } {
  const { asn1 } = forge()
  const subtree = (generalName: Forge.asn1.Asn1) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [generalName])
  const dns = dnsSuffixes.map((suffix) => subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, suffix)))
  const ips = PRIVATE_RANGES.map((range) => subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, cidrBytes(range))))
  const permitted = asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [...dns, ...ips])
  return { id: '2.5.29.30', critical: true, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [permitted]) }
}

/** address bytes followed by mask bytes, as a binary string */
function cidrBytes(range: string): string {
  const [address, bits] = range.split('/')
  const bytes = ipBytes(address)
  const mask = bytes.map((_, i) => {
    const remaining = Number(bits) - i * 8
    return remaining >= 8 ? 0xff : remaining <= 0 ? 0 : (0xff << (8 - remaining)) & 0xff
  })
  return String.fromCharCode(...bytes, ...mask)
}

function inCidr(address: string, range: string): boolean {
  const [base, bits] = range.split('/')
  const a = ipBytes(address)
  const b = ipBytes(base)
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const remaining = Number(bits) - i * 8
    const mask = remaining >= 8 ? 0xff : remaining <= 0 ? 0 : (0xff << (8 - remaining)) & 0xff
    if ((a[i] & mask) !== (b[i] & mask)) return false
  }
  return true
}

export function ipBytes(address: string): number[] {
  if (isIP(address) === 4) return address.split('.').map(Number)
  const [head, tail = ''] = address.split('::')
  const groups = (part: string) => (part ? part.split(':') : [])
  const left = groups(head)
  const right = groups(tail)
  const missing = address.includes('::') ? 8 - left.length - right.length : 0
  const all = [...left, ...Array(missing).fill('0'), ...right]
  return all.flatMap((group) => {
    const value = parseInt(group, 16)
    return [value >> 8, value & 0xff]
  })
}
