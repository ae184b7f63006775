// Settings saved from the GUI, kept in DATA_DIR/settings.json. `berth serve` flags win over them;
// the desktop app starts from them. A missing file means the defaults.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatAuthority, isLoopbackHost, parseListenAddress, type ListenAddress } from './config'
import { parseGcSchedule } from './gc/schedule'

export interface Settings {
  /** HOST:PORT or off */
  http: string
  https: string
  mtls: string
  httpsWrite: 'open' | 'basic' | 'off'
  deleteEnabled: boolean
  /** off, daily, hourly, every:H, after:N (comma-separated) */
  gcSchedule: string
  hostNames: string[]
}

export const DEFAULT_SETTINGS: Settings = {
  http: '127.0.0.1:5000',
  https: '127.0.0.1:5443',
  mtls: '127.0.0.1:5444',
  httpsWrite: 'open',
  deleteEnabled: true,
  gcSchedule: 'off',
  hostNames: [],
}

export class SettingsError extends Error {}

const FILE = 'settings.json'

/** What the settings file holds (validated), nothing for what it does not name. */
export function loadSettings(dataDir: string): Partial<Settings> {
  let text: string
  try {
    text = readFileSync(join(dataDir, FILE), 'utf8')
  } catch {
    return {}
  }
  try {
    const saved = JSON.parse(text) as Partial<Settings>
    const valid = validateSettings({ ...DEFAULT_SETTINGS, ...saved })
    return Object.fromEntries(Object.keys(saved).filter((key) => key in valid).map((key) => [key, valid[key as keyof Settings]]))
  } catch (error) {
    throw new SettingsError(`${join(dataDir, FILE)}: ${(error as Error).message}`)
  }
}

/**
 * createBerth's options from command-line flags, else saved settings, else the defaults. The
 * write policy of the TLS listener has no fixed default (open on loopback, basic elsewhere).
 */
export function berthOptionsFrom(flags: Partial<Settings>, saved: Partial<Settings>) {
  const pick = <K extends keyof Settings>(key: K): Settings[K] => flags[key] ?? saved[key] ?? DEFAULT_SETTINGS[key]
  return {
    http: parseListenAddress(pick('http')),
    https: parseListenAddress(pick('https')),
    mtls: parseListenAddress(pick('mtls')),
    httpsWrite: flags.httpsWrite ?? saved.httpsWrite,
    deleteEnabled: pick('deleteEnabled'),
    gcSchedule: pick('gcSchedule'),
    hostNames: [...new Set([...(saved.hostNames ?? []), ...(flags.hostNames ?? [])])],
  }
}

export function saveSettings(dataDir: string, settings: Settings): void {
  const path = join(dataDir, FILE)
  const temp = `${path}.tmp`
  writeFileSync(temp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 })
  renameSync(temp, path)
}

/** Checks every field and returns the settings normalized; throws a readable error. */
export function validateSettings(settings: Settings): Settings {
  for (const key of ['http', 'https', 'mtls'] as const) {
    const value = String(settings[key]).trim()
    let address: ListenAddress | null
    try {
      address = parseListenAddress(value)
    } catch (error) {
      throw new SettingsError(`${key}: ${(error as Error).message}`)
    }
    if (key === 'http' && address && !isLoopbackHost(address.host)) {
      throw new SettingsError(`http: plain HTTP serves loopback only; ${address.host} is not a loopback address`)
    }
    settings = { ...settings, [key]: address ? formatAuthority(address.host, address.port) : 'off' }
  }
  if (!['open', 'basic', 'off'].includes(settings.httpsWrite)) throw new SettingsError(`httpsWrite: open, basic or off, not ${JSON.stringify(settings.httpsWrite)}`)
  if (typeof settings.deleteEnabled !== 'boolean') throw new SettingsError('deleteEnabled: true or false')
  try {
    parseGcSchedule(settings.gcSchedule)
  } catch (error) {
    throw new SettingsError(`gcSchedule: ${(error as Error).message}`)
  }
  if (!Array.isArray(settings.hostNames) || !settings.hostNames.every((n) => typeof n === 'string' && /^[\w.:-]+$/.test(n))) {
    throw new SettingsError('hostNames: a list of host names or IP addresses')
  }
  return { ...settings, hostNames: [...new Set(settings.hostNames.map((n) => n.toLowerCase()))] }
}
