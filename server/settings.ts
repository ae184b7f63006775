// Settings saved from the GUI, kept in DATA_DIR/settings.json. `berth serve` flags win over them;
// the desktop app starts from them. The file holds only what the user chose: a key that is not
// there means "the default", which may depend on other settings (the TLS write policy does).
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatAuthority, isLoopbackHost, parseListenAddress, type ListenAddress } from './config'
import { parseGcSchedule } from './gc/schedule'
import { parseRateLimit } from './registry/rate-limit'

/** Who may write on the TLS listener. */
export type HttpsWritePolicy = 'open' | 'users' | 'off'
/** `auto`: open while the listener is bound to loopback, users anywhere else. */
export type HttpsWriteChoice = HttpsWritePolicy | 'auto'

export interface Settings {
  /** HOST:PORT or off */
  http: string
  https: string
  mtls: string
  httpsWrite: HttpsWriteChoice
  /** how users sign in where they must: the registry token protocol (default) or Basic */
  auth: 'token' | 'basic'
  deleteEnabled: boolean
  /** off, daily, hourly, every:H, after:N (comma-separated) */
  gcSchedule: string
  hostNames: string[]
  /** requests per second per client address: auto (other machines only), off, or R,W */
  rateLimit: string
}

/** What settings.json holds: the user's choices, and the address open writes were confirmed for. */
export type SavedSettings = Partial<Settings> & {
  /** the TLS address (HOST:PORT) for which the user confirmed open writes on a non-loopback address */
  openWritesConfirmedFor?: string
}

export const DEFAULT_SETTINGS: Settings = {
  http: '127.0.0.1:5000',
  https: '127.0.0.1:5443',
  mtls: '127.0.0.1:5444',
  httpsWrite: 'auto',
  auth: 'token',
  deleteEnabled: true,
  gcSchedule: 'off',
  hostNames: [],
  rateLimit: 'auto',
}

export class SettingsError extends Error {}

const FILE = 'settings.json'
const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]

/** `basic` is the older name of `users`. */
export function parseHttpsWrite(text: string): HttpsWriteChoice | undefined {
  const choice = text === 'basic' ? 'users' : text
  return (['auto', 'open', 'users', 'off'] as const).find((c) => c === choice)
}

/** What the settings file holds (validated), nothing for what it does not name. */
export function loadSettings(dataDir: string): SavedSettings {
  let text: string
  try {
    text = readFileSync(join(dataDir, FILE), 'utf8')
  } catch {
    return {}
  }
  try {
    const saved = JSON.parse(text) as SavedSettings & Record<string, unknown>
    if (typeof saved.httpsWrite === 'string') saved.httpsWrite = parseHttpsWrite(saved.httpsWrite) ?? saved.httpsWrite
    const valid = validateSettings({ ...DEFAULT_SETTINGS, ...saved })
    const chosen: SavedSettings = Object.fromEntries(SETTING_KEYS.filter((key) => key in saved).map((key) => [key, valid[key]]))
    if (typeof saved.openWritesConfirmedFor === 'string') chosen.openWritesConfirmedFor = saved.openWritesConfirmedFor
    return chosen
  } catch (error) {
    throw new SettingsError(`${join(dataDir, FILE)}: ${(error as Error).message}`)
  }
}

export function saveSettings(dataDir: string, saved: SavedSettings): void {
  const path = join(dataDir, FILE)
  const temp = `${path}.tmp`
  writeFileSync(temp, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 })
  renameSync(temp, path)
}

/** The write policy a choice means on a listener bound to `host`. */
export function resolveHttpsWrite(choice: HttpsWriteChoice, host: string): HttpsWritePolicy {
  if (choice !== 'auto') return choice
  return isLoopbackHost(host) ? 'open' : 'users'
}

/** Open writes on an address other machines can reach: anyone there may push and delete. */
export function opensWritesToNetwork(choice: HttpsWriteChoice, https: string): boolean {
  const address = parseListenAddress(https)
  return address !== null && !isLoopbackHost(address.host) && resolveHttpsWrite(choice, address.host) === 'open'
}

/**
 * createBerth's options from command-line flags, else saved settings, else the defaults. A saved
 * `open` write policy applies to a non-loopback TLS address only when the user confirmed it for
 * that very address; otherwise writes there need users, and `notices` says why.
 */
export function berthOptionsFrom(flags: Partial<Settings>, saved: SavedSettings) {
  const pick = <K extends keyof Settings>(key: K): Settings[K] => flags[key] ?? saved[key] ?? DEFAULT_SETTINGS[key]
  const https = pick('https')
  const notices: string[] = []
  let httpsWrite = pick('httpsWrite')
  if (flags.httpsWrite === undefined && opensWritesToNetwork(httpsWrite, https) && saved.openWritesConfirmedFor !== formatSetting(https)) {
    notices.push(
      `the saved "open" writes were not confirmed for ${https}: writes there need a user (confirm in Settings, or pass --https-write open)`,
    )
    httpsWrite = 'users'
  }
  return {
    http: parseListenAddress(pick('http')),
    https: parseListenAddress(https),
    mtls: parseListenAddress(pick('mtls')),
    httpsWrite,
    auth: pick('auth'),
    deleteEnabled: pick('deleteEnabled'),
    gcSchedule: pick('gcSchedule'),
    hostNames: [...new Set([...(saved.hostNames ?? []), ...(flags.hostNames ?? [])])],
    rateLimit: pick('rateLimit'),
    notices,
  }
}

function formatSetting(address: string): string {
  const parsed = parseListenAddress(address)
  return parsed ? formatAuthority(parsed.host, parsed.port) : 'off'
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
  const httpsWrite = typeof settings.httpsWrite === 'string' ? parseHttpsWrite(settings.httpsWrite) : undefined
  if (!httpsWrite) throw new SettingsError(`httpsWrite: auto, open, users or off, not ${JSON.stringify(settings.httpsWrite)}`)
  if (settings.auth !== 'token' && settings.auth !== 'basic') throw new SettingsError(`auth: token or basic, not ${JSON.stringify(settings.auth)}`)
  if (typeof settings.deleteEnabled !== 'boolean') throw new SettingsError('deleteEnabled: true or false')
  try {
    parseGcSchedule(settings.gcSchedule)
  } catch (error) {
    throw new SettingsError(`gcSchedule: ${(error as Error).message}`)
  }
  try {
    parseRateLimit(String(settings.rateLimit))
  } catch (error) {
    throw new SettingsError(`rateLimit: ${(error as Error).message}`)
  }
  if (!Array.isArray(settings.hostNames) || !settings.hostNames.every((n) => typeof n === 'string' && /^[\w.:-]+$/.test(n))) {
    throw new SettingsError('hostNames: a list of host names or IP addresses')
  }
  return { ...settings, httpsWrite, rateLimit: String(settings.rateLimit).trim().toLowerCase(), hostNames: [...new Set(settings.hostNames.map((n) => n.toLowerCase()))] }
}

/** Only the known settings keys of an untrusted patch (the GUI sends what changed). */
export function settingsPatch(patch: Record<string, unknown>): Partial<Settings> {
  return Object.fromEntries(SETTING_KEYS.filter((key) => patch[key] !== undefined).map((key) => [key, patch[key]])) as Partial<Settings>
}
