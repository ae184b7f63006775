// Whether Berth can do its job: the store answers, every listener is up, and the data dir's disk
// has room above a floor. /readyz on each registry listener and `berth status` report the same
// facts; /livez only says the process serves requests.
import { statfs } from 'node:fs/promises'
import type { FastifyInstance } from 'fastify'
import type { Store } from './store/store'

export interface Readiness {
  status: 'ready' | 'not ready'
  checks: {
    store: { ok: boolean; detail?: string }
    listeners: { ok: boolean; up: string[]; down: string[] }
    disk: { ok: boolean; free: number | null; floor: number; detail?: string }
  }
}

/** Below this much free space on the data dir's disk Berth says it is not ready (pushes would soon fail with 507). */
export const DEFAULT_MIN_FREE_BYTES = 512 * 1024 * 1024

export interface ReadinessSources {
  store: Store
  dataDir: string
  minFreeBytes: number
  /** each listener's name (kind and URL) and its app, read when asked */
  listeners: () => { name: string; app: FastifyInstance }[]
}

export async function checkReadiness(sources: ReadinessSources): Promise<Readiness> {
  const store = checkStore(sources.store)
  const up: string[] = []
  const down: string[] = []
  for (const { name, app } of sources.listeners()) (app.server.listening ? up : down).push(name)
  let free: number | null = null
  let diskDetail: string | undefined
  try {
    const stats = await statfs(sources.dataDir)
    free = stats.bavail * stats.bsize
  } catch (error) {
    diskDetail = `cannot read the free space: ${(error as Error).message}`
  }
  const diskOk = free !== null && free >= sources.minFreeBytes
  if (free !== null && !diskOk) diskDetail = `${mib(free)} free, below the floor of ${mib(sources.minFreeBytes)}: free space or pushes will soon fail with 507`
  const ok = store.ok && down.length === 0 && diskOk
  return {
    status: ok ? 'ready' : 'not ready',
    checks: {
      store,
      listeners: { ok: down.length === 0, up, down },
      disk: { ok: diskOk, free, floor: sources.minFreeBytes, ...(diskDetail ? { detail: diskDetail } : {}) },
    },
  }
}

function checkStore(store: Store): Readiness['checks']['store'] {
  if (!store.db.open) return { ok: false, detail: 'the database is closed' }
  try {
    // a read: in WAL mode it never waits on a writer, so a busy database still reads as open
    store.db.prepare('SELECT 1 FROM repositories LIMIT 1').get()
    return { ok: true }
  } catch (error) {
    return { ok: false, detail: (error as Error).message }
  }
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(0)} MiB`
}

/** `512M`, `2G`, `100K` or plain bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(text.trim())
  if (!match) throw new Error(`not a size: ${JSON.stringify(text)} (such as 512M or 2G)`)
  const power = ['', 'K', 'M', 'G', 'T'].indexOf(match[2].toUpperCase())
  return Math.round(Number(match[1]) * 1024 ** power)
}
