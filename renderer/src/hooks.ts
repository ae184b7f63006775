// Data for a page: one admin call, refetched when its arguments change or the registry does.
import { useCallback, useEffect, useRef, useState } from 'react'
import type { ArgsOf, Channel, ResultOf } from '../../server/admin/contract'
import { call } from './client'
import { useLive } from './live'

export interface Loaded<T> {
  data: T | undefined
  error: string | undefined
  loading: boolean
  reload: () => void
}

export function useCall<C extends Channel>(channel: C, args: ArgsOf<C>, options: { follow?: 'changes' | 'activity' | 'none' } = {}): Loaded<ResultOf<C>> {
  const live = useLive()
  const follow = options.follow ?? 'changes'
  const tick = follow === 'activity' ? live.activity : follow === 'changes' ? live.revision : 0
  const key = JSON.stringify(args)
  const [state, setState] = useState<{ data?: ResultOf<C>; error?: string; loading: boolean }>({ loading: true })
  const [manual, setManual] = useState(0)
  const latest = useRef(0)

  useEffect(() => {
    const request = ++latest.current
    setState((s) => ({ ...s, loading: true }))
    call(channel, JSON.parse(key) as ArgsOf<C>).then(
      (data) => request === latest.current && setState({ data, loading: false }),
      (error: Error) => request === latest.current && setState((s) => ({ data: s.data, error: error.message, loading: false })),
    )
  }, [channel, key, tick, manual])

  const reload = useCallback(() => setManual((n) => n + 1), [])
  return { data: state.data, error: state.error, loading: state.loading, reload }
}

/** Runs an action, keeping its busy state and error in words. */
export function useAction() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true)
    setError(undefined)
    try {
      return await action()
    } catch (e) {
      setError((e as Error).message)
      return undefined
    } finally {
      setBusy(false)
    }
  }, [])
  return { busy, error, setError, run }
}
