// createBerth(): the one entry to the core, called by the CLI and the Electron main process.
import type { FastifyInstance } from 'fastify'
import type { Server } from 'node:http'
import { formatAuthority, isLoopbackHost, type ListenAddress } from './config'
import { closeControl, listenControl } from './control'
import { buildRegistryApp } from './registry/app'
import type { FsckReport } from './store/fsck'
import { StoreLayout } from './store/layout'
import { prepareDataDir, Store } from './store/store'

export interface BerthOptions {
  dataDir: string
  /** plain-HTTP registry listener, loopback only; null turns it off */
  http?: ListenAddress | null
  /** registry-API deletes; the GUI and CLI delete regardless */
  deleteEnabled?: boolean
}

export type ListenerKind = 'http' | 'https' | 'mtls' | 'admin'

export interface RunningListener {
  kind: ListenerKind
  host: string
  port: number
  url: string
}

export interface Berth {
  readonly dataDir: string
  readonly store: Store
  readonly listeners: RunningListener[]
  fsck(options?: { repair?: boolean }): Promise<FsckReport>
  /** Stops accepting requests, lets in-flight ones finish (parking uploads after a grace period), closes the store. */
  close(): Promise<void>
}

export const DEFAULT_HTTP: ListenAddress = { host: '127.0.0.1', port: 5000 }

/** How long close() waits for in-flight requests before cutting them (an upload stays resumable). */
const CLOSE_GRACE_MS = 5000

export class ListenError extends Error {}

export async function createBerth(options: BerthOptions): Promise<Berth> {
  const layout = new StoreLayout(options.dataDir)
  const http = options.http === undefined ? DEFAULT_HTTP : options.http
  if (http && !isLoopbackHost(http.host)) {
    throw new ListenError(`plain HTTP serves loopback only; ${http.host} is not a loopback address (use the TLS listener for other hosts)`)
  }

  await prepareDataDir(layout)
  let store: Store | undefined
  const control = await listenControl(layout, async (path, body) => {
    if (!store) throw new Error('the server is still starting')
    if (path === '/fsck') return store.fsck(body as { repair?: boolean })
    if (path === '/status') return { dataDir: options.dataDir, listeners }
    throw new Error(`unknown control request ${path}`)
  })
  const apps: FastifyInstance[] = []
  const listeners: RunningListener[] = []
  try {
    store = await Store.open(options.dataDir)
    if (http) {
      const app = await buildRegistryApp({ store, policy: { deleteEnabled: options.deleteEnabled ?? true } })
      apps.push(app)
      listeners.push(await listen(app, 'http', http))
    }
  } catch (error) {
    await Promise.all(apps.map((app) => app.close()))
    store?.close()
    await closeControl(control, layout)
    throw error
  }

  const opened = store
  return {
    dataDir: options.dataDir,
    store: opened,
    listeners,
    fsck: (fsckOptions) => opened.fsck(fsckOptions),
    async close() {
      await Promise.all(apps.map((app) => closeGracefully(app)))
      opened.close()
      await closeControl(control, layout)
    },
  }
}

async function listen(app: FastifyInstance, kind: ListenerKind, address: ListenAddress): Promise<RunningListener> {
  try {
    await app.listen({ host: address.host, port: address.port })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const where = formatAuthority(address.host, address.port)
    if (code === 'EADDRINUSE') throw new ListenError(`cannot listen on ${where}: the port is already in use`)
    if (code === 'EACCES') throw new ListenError(`cannot listen on ${where}: permission denied`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ListenError(`cannot listen on ${where}: no such local address`)
    throw error
  }
  const bound = app.server.address()
  const port = typeof bound === 'object' && bound ? bound.port : address.port
  const scheme = kind === 'http' ? 'http' : 'https'
  return { kind, host: address.host, port, url: `${scheme}://${formatAuthority(address.host, port)}` }
}

async function closeGracefully(app: FastifyInstance): Promise<void> {
  const server = app.server as Server
  const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS)
  server.closeIdleConnections()
  try {
    await app.close()
  } finally {
    clearTimeout(cut)
  }
}
