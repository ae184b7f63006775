// Where Berth keeps its data, and how listener addresses are written.
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** --data-dir, else BERTH_DATA_DIR, else $XDG_DATA_HOME/berth or ~/.local/share/berth. */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag)
  if (env.BERTH_DATA_DIR) return resolve(env.BERTH_DATA_DIR)
  const dataHome = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(dataHome, 'berth')
}

export interface ListenAddress {
  host: string
  port: number
}

export class AddressError extends Error {}

/** Parses HOST:PORT ([v6]:PORT for IPv6); `off` is null. */
export function parseListenAddress(text: string): ListenAddress | null {
  if (text === 'off') return null
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text)
  const port = match ? Number(match[2]) : NaN
  if (!match || port > 65535) throw new AddressError(`not an address: ${JSON.stringify(text)} (expected HOST:PORT, [IPv6]:PORT or off)`)
  return { host: match[1], port }
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** host:port as a URL authority (IPv6 in brackets). */
export function formatAuthority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
