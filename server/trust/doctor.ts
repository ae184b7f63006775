// The trust doctor: for a target and endpoint, opens a TLS connection using exactly the files
// that target's client would read, and says what is wrong and how to fix it.
import { existsSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { connect } from 'node:tls'
import { clientQuirk, DOCKER_MTLS_INSTEAD } from './quirks'
import { endpointFolder, type Endpoint, type TrustEnvironment, type TrustTarget } from './targets'

export interface Diagnosis {
  target: string
  endpoint: string
  ok: boolean
  /** what a client would see, in words */
  reason: string
  /** the command or step that fixes it */
  fix?: string
}

const TIMEOUT_MS = 5000

export async function diagnose(target: TrustTarget, env: TrustEnvironment, endpoint: Endpoint): Promise<Diagnosis> {
  const base = { target: target.id, endpoint: endpointFolder(endpoint) }
  const install = `berth trust install --target ${target.id}`
  const quirk = clientQuirk(target.id, endpoint)
  if (quirk) return { ...base, ok: false, reason: quirk, fix: DOCKER_MTLS_INSTEAD }
  const files = target.trustFiles(env, endpoint)
  if (!files.ca || !existsSync(files.ca)) {
    return { ...base, ok: false, reason: `no CA where ${target.label} looks (${target.location(env, endpoint)})`, fix: install }
  }
  const ca = readFileSync(files.ca)
  const haveClient = files.clientCert && files.clientKey && existsSync(files.clientCert) && existsSync(files.clientKey)
  if (endpoint.mtls && !haveClient) {
    return { ...base, ok: false, reason: 'client certificate missing: the mTLS listener refuses clients without one', fix: install }
  }
  const client = endpoint.mtls && haveClient ? { cert: readFileSync(files.clientCert!), key: readFileSync(files.clientKey!) } : {}

  return new Promise<Diagnosis>((resolve) => {
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      servername: isIP(endpoint.host) ? undefined : endpoint.host,
      ca,
      ...client,
      rejectUnauthorized: true,
      timeout: TIMEOUT_MS,
    })
    const finish = (d: Omit<Diagnosis, 'target' | 'endpoint'>) => {
      socket.destroy()
      resolve({ ...base, ...d })
    }
    socket.on('timeout', () => finish({ ok: false, reason: `no answer from ${base.endpoint} within ${TIMEOUT_MS / 1000} s`, fix: 'check that berth serve is running' }))
    socket.on('error', (error: NodeJS.ErrnoException) => finish(explain(error, target, endpoint, install)))
    socket.on('secureConnect', () => {
      // A request proves the whole path: a revoked client certificate is cut off right after the handshake.
      const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
      socket.write(`GET /v2/ HTTP/1.1\r\nHost: ${host}:${endpoint.port}\r\nConnection: close\r\n\r\n`)
      let answer = ''
      socket.on('data', (chunk) => (answer += chunk))
      socket.on('end', () => {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])
        if (status === 200 || status === 401) finish({ ok: true, reason: `TLS verified with ${files.ca}${endpoint.mtls ? ' and the client certificate' : ''}` })
        else if (!status) finish({ ok: false, reason: 'the server closed the connection after the handshake: the client certificate was refused (revoked?)', fix: `berth trust uninstall --target ${target.id} && ${install}` })
        else finish({ ok: false, reason: `the registry answered ${status}`, fix: 'see the Activity log' })
      })
    })
  })
}

function explain(error: NodeJS.ErrnoException, target: TrustTarget, endpoint: Endpoint, install: string): Omit<Diagnosis, 'target' | 'endpoint'> {
  const code = error.code ?? ''
  if (['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE'].includes(code)) {
    return { ok: false, reason: `unknown authority: the CA ${target.label} reads did not sign Berth's certificate (x509: certificate signed by unknown authority)`, fix: install }
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { ok: false, reason: `name mismatch: the server certificate does not name ${endpoint.host}`, fix: `berth serve --host ${endpoint.host}` }
  }
  if (code === 'CERT_HAS_EXPIRED') return { ok: false, reason: 'the server certificate has expired', fix: 'restart berth serve (it renews the certificate)' }
  if (code === 'ECONNREFUSED') return { ok: false, reason: `nothing listens on ${endpointFolder(endpoint)}`, fix: 'start berth serve' }
  if (/certificate required|CERTIFICATE_REQUIRED|bad certificate|unknown ca/i.test(`${code} ${error.message}`)) {
    return { ok: false, reason: 'the mTLS listener refused the client certificate (missing, foreign or revoked)', fix: install }
  }
  return { ok: false, reason: `${code || 'error'}: ${error.message}` }
}
