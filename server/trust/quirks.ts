// What a client does differently from what its trust folder suggests, proven with the real
// client in test/clients/docker.test.ts. One place, read by the doctor, the trust matrix and
// the commands the GUI offers to copy.
import { isLoopbackHost } from '../config'
import type { Endpoint, TargetId } from './targets'

/**
 * Docker Engine (and Docker Desktop's engine) treats localhost and 127.0.0.0/8 registries as
 * insecure: it tries HTTPS without verifying, falls back to HTTP, and never reads certs.d for
 * them, so it never sends a client certificate to a loopback mTLS port.
 */
export function clientQuirk(target: TargetId, endpoint: Endpoint): string | undefined {
  if ((target === 'docker' || target === 'docker-desktop') && endpoint.mtls && isLoopbackHost(endpoint.host)) {
    return 'Docker Engine treats localhost and 127.0.0.0/8 registries as insecure and never reads certs.d for them, so it sends no client certificate to this mTLS port'
  }
  return undefined
}

/** What works instead of a loopback mTLS port for docker. */
export const DOCKER_MTLS_INSTEAD =
  'push with docker to the TLS port after docker login (berth user add NAME, berth serve --https-write users), or serve mTLS on a LAN name or address given with --host and push to that name'
