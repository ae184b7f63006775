// Small pieces every page uses: copyable commands, dialogs, notices, progress, empty states.
import { useEffect, useRef, useState, type ReactNode } from 'react'

/** A page: its heading names the window too (`documentTitle` when the heading is not plain text). */
export function Page({ title, documentTitle, actions, children }: { title: ReactNode; documentTitle?: string; actions?: ReactNode; children: ReactNode }) {
  const name = documentTitle ?? (typeof title === 'string' ? title : undefined)
  useEffect(() => {
    document.title = name ? `${name} · Berth` : 'Berth'
  }, [name])
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <h1 id="page-title">{title}</h1>
        {actions && <div className="page-actions">{actions}</div>}
      </header>
      {children}
    </section>
  )
}

/** The header cell over a table's row buttons: named for screen readers, empty on screen. */
export function ActionsHeading() {
  return (
    <th>
      <span className="visually-hidden">Actions</span>
    </th>
  )
}

export function Card({ title, children, className }: { title?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <div className={`card ${className ?? ''}`}>
      {title && <h2>{title}</h2>}
      {children}
    </div>
  )
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text)
    } catch {
      // no clipboard permission (an insecure origin): select-and-copy fallback
      const area = document.createElement('textarea')
      area.value = text
      document.body.append(area)
      area.select()
      document.execCommand('copy')
      area.remove()
    }
    setCopied(true)
    window.setTimeout(() => setCopied(false), 1500)
  }
  return (
    <button type="button" className="small" onClick={copy} aria-label={`${label}: ${text}`}>
      {copied ? 'Copied' : label}
    </button>
  )
}

export function Command({ command, label }: { command: string; label?: string }) {
  return (
    <div className="command">
      {label && <span className="command-label">{label}</span>}
      <code>{command}</code>
      <CopyButton text={command} />
    </div>
  )
}

export function ErrorNotice({ error, onDismiss }: { error?: string; onDismiss?: () => void }) {
  if (!error) return null
  return (
    <div className="notice error" role="alert">
      <span>{error}</span>
      {onDismiss && (
        <button type="button" className="small" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  )
}

export function Notice({ children, kind = 'info' }: { children: ReactNode; kind?: 'info' | 'success' | 'warning' }) {
  return (
    <div className={`notice ${kind}`} role="status">
      <div>{children}</div>
    </div>
  )
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  )
}

export function Empty({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="empty">
      <h2>{title}</h2>
      {children}
    </div>
  )
}

export function Progress({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100)
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-label={label}>
      <div className="progress-bar" style={{ width: `${percent}%` }} />
      <span className="progress-label">
        {label} · {percent}%
      </span>
    </div>
  )
}

export function Badge({ children, kind = 'neutral', title }: { children: ReactNode; kind?: string; title?: string }) {
  return (
    <span className={`badge ${kind}`} title={title}>
      {children}
    </span>
  )
}

/**
 * A modal dialog: focus moves in, Escape cancels, and focus goes back where it was when it
 * closes (or to the page heading when that control is gone, as after a delete).
 */
export function Dialog({ title, children, onClose, actions }: { title: string; children: ReactNode; onClose: () => void; actions: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (dialog && !dialog.open) dialog.showModal()
    return () => {
      dialog?.close()
      // after React commits the change the dialog caused (a deleted row is gone by then)
      window.setTimeout(() => {
        if (document.activeElement && document.activeElement !== document.body) return
        if (opener?.isConnected) opener.focus()
        else focusHeading()
      })
    }
  }, [])
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="dialog-title" onCancel={(e) => (e.preventDefault(), onClose())}>
      <h2 id="dialog-title">{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="dialog-actions">{actions}</div>
    </dialog>
  )
}

/** A form whose submit (button or Enter) runs `onSubmit` instead of reloading the page. */
export function Form({ onSubmit, className, children }: { onSubmit: () => void; className?: string; children: ReactNode }) {
  return (
    <form
      className={className}
      onSubmit={(e) => {
        e.preventDefault()
        onSubmit()
      }}
    >
      {children}
    </form>
  )
}

/** Saves bytes as a file (a client certificate bundle). */
export function download(filename: string, base64: string, type = 'application/gzip'): void {
  const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
  const url = URL.createObjectURL(new Blob([data], { type }))
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  document.body.append(link)
  link.click()
  link.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** Moves focus to the current page's heading (skip link, lost focus). */
export function focusHeading(): void {
  const heading = document.getElementById('page-title')
  if (!heading) return
  heading.tabIndex = -1
  heading.focus()
}
