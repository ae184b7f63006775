// Failures a developer should see in the activity log with a fix: refused requests (401/403
// marked by OciError.because) and TLS handshakes that failed before any request, such as a
// client that does not trust Berth's CA or plain HTTP sent to a TLS port.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { TLSSocket } from 'node:tls'
import type { EventLog } from '../store/events'
import type { OciError } from './errors'

/** The same failure from the same address is logged at most this often. */
const REPEAT_MS = 10_000

export function recordRefusal(events: EventLog, request: FastifyRequest, error: OciError): void {
  if (!error.failure) return
  const name = (request.params as { name?: string } | undefined)?.name
  events.record({
    kind: 'auth',
    repository: name,
    userAgent: request.identity ?? request.headers['user-agent'],
    detail: `${error.failure}: ${request.method} ${request.url} from ${request.ip}: ${error.message}`,
  })
}

/** Logs TLS handshake failures of a listener (`mtls` tells what a certificate error means). */
export function recordTlsFailures(app: FastifyInstance, events: EventLog, listener: { mtls: boolean; address: () => string }): void {
  const lastSeen = new Map<string, number>()
  app.server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
    const code = tlsFailureCode(error, listener.mtls)
    if (!code) return
    const from = socket.remoteAddress ?? 'unknown'
    const key = `${code}\0${from}`
    const now = Date.now()
    if (now - (lastSeen.get(key) ?? 0) < REPEAT_MS) return
    lastSeen.set(key, now)
    if (lastSeen.size > 1000) lastSeen.clear()
    events.record({ kind: 'tls', detail: `${code}: handshake from ${from} on ${listener.address()} failed (${error.code ?? error.message})` })
  })
}

export function tlsFailureCode(error: NodeJS.ErrnoException, mtls: boolean): string | undefined {
  const text = `${error.code ?? ''} ${error.message}`.toUpperCase()
  if (text.includes('HTTP_REQUEST') || text.includes('HTTP REQUEST')) return 'http-to-tls'
  // the client's alert: it did not accept Berth's certificate (Go sends bad_certificate, OpenSSL unknown_ca)
  if (/ALERT_UNKNOWN_CA|ALERT_BAD_CERTIFICATE|ALERT_CERTIFICATE_UNKNOWN|ALERT UNKNOWN CA|ALERT BAD CERTIFICATE|ALERT CERTIFICATE UNKNOWN/.test(text)) {
    return 'unknown-authority'
  }
  if (mtls && /PEER_DID_NOT_RETURN_A_CERTIFICATE|CERTIFICATE REQUIRED|NO CERTIFICATE/.test(text)) return 'client-certificate-missing'
  if (mtls && /CERTIFICATE_VERIFY_FAILED|CERTIFICATE VERIFY FAILED|UNABLE_TO_GET_ISSUER|UNKNOWN_CA/.test(text)) return 'client-certificate-refused'
  return undefined
}
