// The way back from a delete. The notice after a delete lives above the pages, so it survives
// navigation (deleting a repository leaves its page) and stays until undone or dismissed.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import type { DeletionView } from '../../server/admin/contract'
import { call } from './client'
import { shortDigest } from './format'

interface UndoContext {
  /** shows the notice for a deletion that just happened */
  announce: (deletion: DeletionView) => void
  /** undoes a deletion and says so in the notice */
  undo: (deletion: DeletionView) => Promise<void>
  busy: boolean
  shown?: Shown
  dismiss: () => void
}

const Context = createContext<UndoContext>({ announce: () => undefined, undo: async () => undefined, busy: false, dismiss: () => undefined })

type Shown = { deletion: DeletionView; undone: boolean; error?: string }

export function describeDeletion(d: Pick<DeletionView, 'kind' | 'repository' | 'reference'>): string {
  switch (d.kind) {
    case 'tag':
      return `tag ${d.repository}:${d.reference}`
    case 'manifest':
      return `manifest ${shortDigest(d.reference ?? '')} of ${d.repository} (with its tags)`
    case 'repository':
      return `repository ${d.repository}`
    case 'selection':
      return `${d.reference} of ${d.repository}`
  }
}

export function UndoProvider({ children }: { children: ReactNode }) {
  const [shown, setShown] = useState<Shown>()
  const [busy, setBusy] = useState(false)
  const announce = useCallback((deletion: DeletionView) => setShown({ deletion, undone: false }), [])
  const undo = useCallback(async (deletion: DeletionView) => {
    setBusy(true)
    try {
      await call('deletions:undo', { id: deletion.id })
      setShown({ deletion, undone: true })
    } catch (e) {
      setShown({ deletion, undone: false, error: (e as Error).message })
    } finally {
      setBusy(false)
    }
  }, [])
  const dismiss = useCallback(() => setShown(undefined), [])
  const value = useMemo(() => ({ announce, undo, busy, shown, dismiss }), [announce, undo, busy, shown, dismiss])
  return <Context.Provider value={value}>{children}</Context.Provider>
}

/** The notice itself, shown above whichever page is open. */
export function UndoBanner() {
  const { shown, undo, dismiss, busy } = useContext(Context)
  if (!shown) return null
  return <UndoNotice shown={shown} onUndo={() => undo(shown.deletion)} onDismiss={dismiss} busy={busy} />
}

export function useUndo(): UndoContext {
  return useContext(Context)
}

function UndoNotice({ shown, onUndo, onDismiss, busy }: { shown: Shown; onUndo: () => void; onDismiss: () => void; busy: boolean }) {
  const ref = useRef<HTMLDivElement>(null)
  // after Undo the button is gone: focus moves to the notice that says what happened
  useEffect(() => {
    if (shown.undone) ref.current?.focus()
  }, [shown.undone])
  const what = describeDeletion(shown.deletion)
  return (
    <div ref={ref} tabIndex={-1} className={`notice undo-notice ${shown.error ? 'error' : 'success'}`} role="status" aria-live="polite">
      <span>
        {shown.undone ? `Restored ${what}.` : `Deleted ${what}. You can undo it until the next garbage collection.`}
        {shown.error && <> {shown.error}</>}
      </span>
      <span className="buttons inline">
        {!shown.undone && (
          <button type="button" className="small" onClick={onUndo} disabled={busy}>
            {busy ? 'Undoing…' : 'Undo'}
          </button>
        )}
        <button type="button" className="small" onClick={onDismiss}>
          Dismiss
        </button>
      </span>
    </div>
  )
}
