// The listeners' names, default addresses and start-up error: what the CLI needs without loading
// the server itself (berth.ts brings Fastify, about 80 ms to load, which `berth gc` and the other
// offline commands do not need).
import type { ListenAddress } from './config'

export type ListenerKind = 'http' | 'https' | 'mtls' | 'admin' | 'metrics'

/** The registry's own listeners (not the admin or metrics ones). */
export function isRegistryListener<L extends { kind: string }>(listener: L): listener is L & { kind: 'http' | 'https' | 'mtls' } {
  return listener.kind === 'http' || listener.kind === 'https' || listener.kind === 'mtls'
}

export const DEFAULT_HTTP: ListenAddress = { host: '127.0.0.1', port: 5000 }
export const DEFAULT_HTTPS: ListenAddress = { host: '127.0.0.1', port: 5443 }
export const DEFAULT_MTLS: ListenAddress = { host: '127.0.0.1', port: 5444 }

/** A listener could not start: its address is taken, not allowed, or not this machine's. */
export class ListenError extends Error {}
