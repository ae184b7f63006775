// Guards a listener against one client using up what every client shares:
//  - a cap on open connections per client address (the rest are refused at once: plain HTTP
//    gets a 429 with the OCI error body, TLS a closed connection before any handshake work),
//  - a minimum-progress rule for request bodies: an upload that keeps moving, however slowly,
//    lives; one that sends (almost) nothing for a whole window is cut, sooner than a timeout would.
import type { FastifyInstance } from 'fastify'
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { OciError } from './errors'

export interface ConnectionLimits {
  /** open connections per client address; 0 for no cap */
  perAddress: number
  /** a request body must bring at least `minimumBytes` in every `windowMs` */
  minimumBytes: number
  windowMs: number
}

/**
 * The cap protects the process's file descriptors, so it follows their limit: a quarter of it,
 * between 64 and 1024. On loopback every local client shares one address, so it is generous;
 * one address can still never take more than a quarter of what the server has.
 */
export function defaultConnectionLimits(): ConnectionLimits {
  return { perAddress: Math.min(1024, Math.max(64, Math.floor(openFileLimit() / 4))), minimumBytes: 1024, windowMs: 20_000 }
}

/** The soft limit on open files (Linux /proc), or a cautious guess elsewhere. */
function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'))
    const soft = Number(/^Max open files\s+(\d+)/.exec(line ?? '')?.[1])
    return Number.isFinite(soft) && soft > 0 ? soft : 1024
  } catch {
    return 1024
  }
}

/** How often the progress of request bodies is checked. */
const CHECK_EVERY_MS = 2_000

export function guardConnections(
  app: FastifyInstance,
  limits: ConnectionLimits,
  options: { tls: boolean; onRefused?: (address: string, open: number) => void },
): void {
  const open = new Map<string, number>()
  app.server.prependListener('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown'
    const count = (open.get(address) ?? 0) + 1
    if (limits.perAddress > 0 && count > limits.perAddress) {
      options.onRefused?.(address, count - 1)
      if (options.tls) socket.destroy()
      else socket.end(tooManyResponse(limits.perAddress))
      return
    }
    open.set(address, count)
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1
      if (left <= 0) open.delete(address)
      else open.set(address, left)
    })
  })

  // request bodies: progress is the socket's bytes read, sampled every few seconds
  const watched = new Map<Socket, { samples: { at: number; bytes: number }[] }>()
  const hooked = new WeakSet<Socket>()
  app.addHook('onRequest', async (request) => {
    const hasBody = request.headers['content-length'] !== undefined ? Number(request.headers['content-length']) > 0 : request.headers['transfer-encoding'] !== undefined
    if (!hasBody) return
    const socket = request.raw.socket
    watched.set(socket, { samples: [{ at: Date.now(), bytes: socket.bytesRead }] })
    const stop = () => watched.delete(socket)
    request.raw.once('end', stop)
    request.raw.once('close', stop)
    // once per connection, not per request: a keep-alive connection carries many
    if (!hooked.has(socket)) {
      hooked.add(socket)
      socket.once('close', stop)
    }
  })
  const timer = setInterval(() => {
    const now = Date.now()
    for (const [socket, state] of watched) {
      state.samples.push({ at: now, bytes: socket.bytesRead })
      while (state.samples.length > 1 && now - state.samples[1].at >= limits.windowMs) state.samples.shift()
      const oldest = state.samples[0]
      if (now - oldest.at >= limits.windowMs && socket.bytesRead - oldest.bytes < limits.minimumBytes) {
        watched.delete(socket)
        socket.destroy()
      }
    }
  }, CHECK_EVERY_MS).unref()
  app.addHook('onClose', async () => clearInterval(timer))
}

function tooManyResponse(cap: number): string {
  const body = JSON.stringify(new OciError('TOO_MANY_CONNECTIONS', `at most ${cap} connections per address`).toBody())
  return `HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
}
