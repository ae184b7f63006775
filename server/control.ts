// The control socket: a running server answers the CLI over a Unix socket in the data dir
// (owner-only), so CLI commands act on the live server. Listening on it also locks the data
// dir: a second server (or an offline fsck) finds it taken. Where the data dir's path is too
// long for a socket, it lives in a folder only this user can enter; a client checks that the
// socket belongs to this user before it sends anything (a password, say) over it.
import { createHash } from 'node:crypto'
import { lstatSync, mkdirSync } from 'node:fs'
import { chmod, lstat, rm } from 'node:fs/promises'
import { createConnection } from 'node:net'
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoreLayout } from './store/layout'

export type ControlHandler = (path: string, body: unknown) => Promise<unknown>

/** Longest Unix socket path Linux and macOS accept, less one for the NUL. */
const MAX_SOCKET_PATH = 103

export function controlSocketPath(layout: StoreLayout): string {
  const inDataDir = layout.controlSocketPath
  if (Buffer.byteLength(inDataDir) <= MAX_SOCKET_PATH) return inDataDir
  // A deep data dir cannot hold a socket; use one named after it in a private folder.
  const id = createHash('sha256').update(layout.root).digest('hex').slice(0, 16)
  return join(privateRuntimeDir(), `berth-${id}.sock`)
}

/**
 * $XDG_RUNTIME_DIR (made by the login manager, 0700), else TMPDIR/berth-UID, created 0700 and
 * refused when another user made it first or opened it to others.
 */
export function privateRuntimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0
  const runtime = env.XDG_RUNTIME_DIR
  const dir = runtime && isPrivateDir(runtime, uid) ? runtime : join(tmpdir(), `berth-${uid}`)
  if (dir !== runtime) {
    try {
      mkdirSync(dir, { mode: 0o700 })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (!isPrivateDir(dir, uid)) {
      throw new DataDirBusyError(`${dir} is not a private folder of this user (another user may have made it): remove it, or use a shorter --data-dir`)
    }
  }
  return dir
}

function isPrivateDir(dir: string, uid: number): boolean {
  try {
    const info = lstatSync(dir)
    return info.isDirectory() && info.uid === uid && (info.mode & 0o077) === 0
  } catch {
    return false
  }
}

/** A socket this user owns; anything else (another user's, a plain file) is never spoken to. */
async function ownSocket(path: string): Promise<boolean> {
  try {
    const info = await lstat(path)
    return info.isSocket() && info.uid === (process.getuid?.() ?? info.uid)
  } catch {
    return false
  }
}

export class DataDirBusyError extends Error {}

/** An operation the running server refused, with its reason. */
export class RemoteError extends Error {}

/** Takes the data dir's lock by listening on its control socket. */
export async function listenControl(layout: StoreLayout, handler: ControlHandler): Promise<Server> {
  const path = controlSocketPath(layout)
  const server = createServer((req, res) => void answer(handler, req, res))
  try {
    await listenOn(server, path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    if (!(await ownSocket(path))) throw new DataDirBusyError(`${path} belongs to another user or is not a socket: remove it, then start again`)
    if (await isAlive(path)) throw new DataDirBusyError(`another Berth process is using ${layout.root}`)
    await rm(path, { force: true }) // left by a process that was killed
    await listenOn(server, path)
  }
  await chmod(path, 0o600)
  return server
}

export async function closeControl(server: Server, layout: StoreLayout): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await rm(controlSocketPath(layout), { force: true })
}

/** Asks the server running on this data dir; undefined when none runs. */
export async function askServer<T>(layout: StoreLayout, path: string, body: unknown = {}): Promise<T | undefined> {
  const socketPath = controlSocketPath(layout)
  if (!(await isAlive(socketPath))) return undefined
  if (!(await ownSocket(socketPath))) {
    throw new RemoteError(`the control socket ${socketPath} does not belong to this user: nothing was sent to it`)
  }
  return new Promise<T>((resolve, reject) => {
    const payload = JSON.stringify(body)
    const req = httpRequest({ socketPath, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        try {
          const parsed = JSON.parse(text) as { result?: T; error?: string }
          if (parsed.error !== undefined) reject(new RemoteError(parsed.error))
          else resolve(parsed.result as T)
        } catch {
          reject(new Error(`the running server answered ${res.statusCode}: ${text}`))
        }
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

async function answer(handler: ControlHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  let status = 200
  let body: unknown
  try {
    const input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}
    body = { result: await handler(req.url ?? '/', input) }
  } catch (error) {
    status = 500
    body = { error: (error as Error).message }
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

function listenOn(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
