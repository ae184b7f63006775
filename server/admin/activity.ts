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
  'invalid-token': {
    explanation: 'A client sent a registry token this Berth did not sign, or one that expired (401).',
    fix: 'Nothing to do for a client that fetches a new token by itself; otherwise log in again (docker login / podman login).',
  },
  denied: {
    explanation: 'The access rules do not let this identity do that on this repository (403 DENIED).',
    fix: 'See who may do what under Access (berth access list; berth access check WHO ACTION REPO), and grant it if it should be allowed.',
  },
  'disk-full': {
    explanation: "Berth's disk is full: pushes and other writes are refused with 507 until there is room; pulls go on.",
    fix: 'Free space on the disk of the data dir: run garbage collection, delete images you no longer need, or move the data dir.',
  },
  'database-busy': {
    explanation: "Another process holds Berth's database lock, so writes are refused with 503 (clients retry); pulls go on.",
    fix: 'Stop the other process that opened berth.db (an sqlite3 shell, a backup tool), then retry.',
  },
  'foreign-host': {
    explanation: 'A request named a host this registry does not answer to (a web page trying DNS rebinding, or a proxy with another name).',
    fix: 'Use localhost, 127.0.0.1 or a name of the server certificate; add a LAN name with berth serve --host NAME.',
  },
  'cross-site': {
    explanation: 'A web page in a browser tried to send a request to the registry (cross-site); container clients never do.',
    fix: 'Nothing to do if you did not expect it: the request was refused. Close the page that sent it.',
  },
  'too-many-connections': {
    explanation: 'One address opened more connections than the per-address cap; further ones were refused so other clients keep working.',
    fix: 'Lower the client\'s parallelism, or look for a runaway script on that machine.',
  },
  'rate-limited': {
    explanation: 'A client sent requests faster than the rate limit for its address, so some were answered 429 TOOMANYREQUESTS (clients wait and retry).',
    fix: 'Nothing to do for a person or a CI job: they retry. For a busy machine on your network, raise the limit under Settings (rate limit) or berth serve --rate-limit R,W.',
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
  const failure = event.kind === 'auth' || event.kind === 'tls' || event.kind === 'store' ? FIXES[failureCode(event.detail) ?? ''] : undefined
  return {
    id: event.id,
    at: event.at,
    kind: event.kind,
    count: event.count ?? 1,
    repository: event.repository ?? null,
    reference: event.reference ?? null,
    digest: event.digest ?? null,
    who: event.userAgent ?? null,
    detail: event.detail ?? null,
    ...(failure ? { failure } : {}),
  }
}
