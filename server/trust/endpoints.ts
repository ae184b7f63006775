// The registry addresses clients use for each running TLS listener: a loopback listener is
// reached as localhost and as 127.0.0.1 (each is its own certs.d folder); any other listener
// under each name of the server certificate.
import { isLoopbackHost } from '../config'
import type { Endpoint } from './targets'

export interface TlsListener {
  kind: string
  host: string
  port: number
}

export function clientEndpoints(listeners: TlsListener[], serverNames: string[]): Endpoint[] {
  return listeners
    .filter((l) => l.kind === 'https' || l.kind === 'mtls')
    .flatMap((l) => {
      const names = isLoopbackHost(l.host) ? ['localhost', '127.0.0.1'] : serverNames.filter((n) => n !== '::1')
      return names.map((host) => ({ host, port: l.port, mtls: l.kind === 'mtls' }))
    })
}
