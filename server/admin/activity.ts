// Activity as the GUI shows it: each event with who did it, and for failures what went wrong
// in words and the fix. Failure events carry a code before a colon in their detail
// (`unknown-authority: ...`), written where the failure is seen (registry/failures.ts).
import type { RegistryEvent } from '../store/events'
import type { ActivityEvent } from './contract'

const FIXES: Record<string, { explanation: string; fix: string }> = {
  'unknown-authority': {
    explanation: "A client refused Berth's certificate: it does not trust Berth's CA (x509: certificate signed by unknown authority).",
    fix: 'Open Certificates & trust and install trust for that client (docker, podman or containerd), then retry.',
  },
  'http-to-tls': {
    explanation: 'A client spoke plain HTTP to a TLS port.',
    fix: 'Use the HTTP listener for plain HTTP, or trust Berth\'s CA and let the client use HTTPS on this port (drop "insecure-registries" / --tls-verify=false for it).',
  },
  'client-certificate-missing': {
    explanation: 'A client connected to the mTLS listener without a client certificate.',
    fix: 'Install trust for the client (it writes client.cert and client.key into certs.d), or issue a client certificate and copy the bundle into certs.d/HOST:PORT/.',
  },
  'client-certificate-refused': {
    explanation: 'The mTLS listener refused a client certificate that Berth\'s client CA did not sign, or that was revoked.',
    fix: 'Issue a new client certificate under Certificates & trust and replace client.cert and client.key in certs.d.',
  },
  'login-required': {
    explanation: 'A push came without credentials to a listener that requires a login (401).',
    fix: 'Run docker login / podman login with a Berth user (Settings → Users), then push again.',
  },
  'wrong-password': {
    explanation: 'A client sent a user name or password Berth does not know (401).',
    fix: 'Check the user under Settings → Users, set a new password if needed, and log in again.',
  },
  'pull-only': {
    explanation: 'A client tried to write to a pull-only listener (403 DENIED).',
    fix: 'Push to the HTTP or mTLS listener, or allow writes on the TLS listener in Settings.',
  },
  revoked: {
    explanation: 'A client used a revoked client certificate (403 DENIED).',
    fix: 'Issue a new client certificate and install it where the client reads it.',
  },
}

export function failureCode(detail: string | null | undefined): string | undefined {
  const match = /^([a-z-]+):/.exec(detail ?? '')
  return match?.[1]
}

export function activityView(event: RegistryEvent): ActivityEvent {
  const failure = event.kind === 'auth' || event.kind === 'tls' ? FIXES[failureCode(event.detail) ?? ''] : undefined
  return {
    id: event.id,
    at: event.at,
    kind: event.kind,
    repository: event.repository ?? null,
    reference: event.reference ?? null,
    digest: event.digest ?? null,
    who: event.userAgent ?? null,
    detail: event.detail ?? null,
    ...(failure ? { failure } : {}),
  }
}
