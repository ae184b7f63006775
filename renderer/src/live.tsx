// Live updates: a revision that moves when the registry changes (a push, delete, GC, a setting),
// so open pages refetch without a reload; and the latest GC progress.
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react'
import type { GcProgressView, LiveMessage } from '../../server/admin/contract'
import { onLive } from './client'

interface Live {
  /** moves on every change that can alter what a page shows */
  revision: number
  /** moves on every event, pulls included (the activity page) */
  activity: number
  gcProgress: GcProgressView | null
}

const LiveContext = createContext<Live>({ revision: 0, activity: 0, gcProgress: null })
const SETTLE_MS = 250

export function LiveProvider({ children }: { children: ReactNode }) {
  const [live, setLive] = useState<Live>({ revision: 0, activity: 0, gcProgress: null })
  const pending = useRef<{ revision: boolean; activity: boolean; timer?: number }>({ revision: false, activity: false })

  useEffect(
    () =>
      onLive((message: LiveMessage) => {
        if (message.type === 'gc-progress') {
          setLive((l) => ({ ...l, gcProgress: message.progress }))
          return
        }
        const p = pending.current
        p.activity = true
        if (message.type === 'changed' || message.event.kind !== 'pull') p.revision = true
        // a burst of events (a push is many) settles into one refetch
        p.timer ??= window.setTimeout(() => {
          const { revision, activity } = p
          pending.current = { revision: false, activity: false }
          setLive((l) => ({ ...l, revision: l.revision + (revision ? 1 : 0), activity: l.activity + (activity ? 1 : 0) }))
        }, SETTLE_MS)
      }),
    [],
  )
  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>
}

export function useLive(): Live {
  return useContext(LiveContext)
}
