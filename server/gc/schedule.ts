// An optional GC schedule for a running server: every N hours, and/or after N deletes.
import type { GarbageCollector } from './collector'
import type { Store } from '../store/store'

export interface GcSchedule {
  everyHours?: number
  afterDeletes?: number
}

const CHECK_MS = 60_000

/** Parses `off`, `daily`, `hourly`, `every:H` (hours) or `after:N` (deletes); comma-separated. */
export function parseGcSchedule(text: string): GcSchedule {
  const schedule: GcSchedule = {}
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === 'off') continue
    else if (part === 'daily') schedule.everyHours = 24
    else if (part === 'hourly') schedule.everyHours = 1
    else if (/^every:\d+(\.\d+)?$/.test(part)) schedule.everyHours = Number(part.slice(6))
    else if (/^after:\d+$/.test(part)) schedule.afterDeletes = Number(part.slice(6))
    else throw new Error(`not a GC schedule: ${JSON.stringify(part)} (off, daily, hourly, every:HOURS, after:DELETES)`)
  }
  return schedule
}

/** Starts the schedule; returns a function that stops it. */
export function startGcSchedule(store: Store, gc: GarbageCollector, schedule: GcSchedule, log: (line: string) => void): () => void {
  if (!schedule.everyHours && !schedule.afterDeletes) return () => {}
  const lastRun = () =>
    store.db.prepare<[], { at: number | null }>('SELECT max(finished_at) AS at FROM gc_runs WHERE dry_run = 0').get()?.at ?? 0
  const timer = setInterval(async () => {
    if (gc.isRunning) return
    const since = lastRun()
    const due =
      (schedule.everyHours !== undefined && Date.now() - since >= schedule.everyHours * 3_600_000) ||
      (schedule.afterDeletes !== undefined &&
        (store.db.prepare<[number], { n: number }>("SELECT count(*) AS n FROM events WHERE kind = 'delete' AND at > ?").get(since)?.n ?? 0) >=
          schedule.afterDeletes)
    if (!due) return
    try {
      const result = await gc.run({})
      log(`berth: scheduled gc removed ${result.manifests} manifests, ${result.blobs} blobs, ${result.bytes} bytes`)
    } catch (error) {
      log(`berth: scheduled gc failed: ${(error as Error).message}`)
    }
  }, CHECK_MS)
  timer.unref()
  return () => clearInterval(timer)
}
