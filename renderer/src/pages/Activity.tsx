// Activity: live pushes, pulls, deletes and refusals; each failure says what happened and the fix,
// with a button to the place that fixes it. Filtered by kind and by client.
import { useState } from 'react'
import type { ActivityEvent } from '../../../server/admin/contract'
import { Badge, Empty, ErrorNotice, Loading, Page } from '../components'
import { ago, shortDigest, when } from '../format'
import { useCall } from '../hooks'
import { href, navigate, type Route } from '../router'

const FILTERS: Record<string, (e: ActivityEvent) => boolean> = {
  all: () => true,
  failures: (e) => e.kind === 'auth' || e.kind === 'tls' || e.kind === 'store',
  pushes: (e) => e.kind === 'push' || e.kind === 'tag',
  pulls: (e) => e.kind === 'pull',
  deletes: (e) => e.kind === 'delete' || e.kind === 'undo' || e.kind === 'gc',
}

export function ActivityPage() {
  const { data, error } = useCall('activity:recent', { limit: 300 }, { follow: 'activity' })
  const [filter, setFilter] = useState('all')
  const [client, setClient] = useState('')
  const clients = [...new Set((data ?? []).map((e) => e.who).filter((who): who is string => Boolean(who)))].sort()
  const shown = (data ?? []).filter(FILTERS[filter]).filter((e) => !client || e.who === client)
  return (
    <Page
      title="Activity"
      actions={
        <div className="toolbar">
          <label>
            Client
            <select value={client} onChange={(e) => setClient(e.target.value)}>
              <option value="">Every client</option>
              {clients.map((who) => (
                <option key={who} value={who}>
                  {who.length > 60 ? `${who.slice(0, 60)}…` : who}
                </option>
              ))}
            </select>
          </label>
          <label>
            Show
            <select value={filter} onChange={(e) => setFilter(e.target.value)}>
              <option value="all">Everything</option>
              <option value="failures">Failures</option>
              <option value="pushes">Pushes</option>
              <option value="pulls">Pulls</option>
              <option value="deletes">Deletes and GC</option>
            </select>
          </label>
        </div>
      }
    >
      <ErrorNotice error={error} />
      {!data && !error && <Loading what="activity" />}
      {data && shown.length === 0 && (
        <Empty title="Nothing yet">
          <p>Pushes, pulls, deletes and refused requests show up here as they happen.</p>
        </Empty>
      )}
      {shown.length > 0 && <ActivityList events={shown} />}
    </Page>
  )
}

/** Where each failure is fixed: the button under its "Fix:" line. */
const FIX_PLACES: Record<string, { label: string; route: Route }> = {
  'unknown-authority': { label: 'Install trust', route: { page: 'trust' } },
  'http-to-tls': { label: 'Open Certificates & trust', route: { page: 'trust' } },
  'client-certificate-missing': { label: 'Issue or install a client certificate', route: { page: 'trust' } },
  'client-certificate-refused': { label: 'Issue a client certificate', route: { page: 'trust' } },
  revoked: { label: 'Issue a client certificate', route: { page: 'trust' } },
  'login-required': { label: 'Open users', route: { page: 'settings' } },
  'wrong-password': { label: 'Open users', route: { page: 'settings' } },
  'pull-only': { label: 'Open Settings', route: { page: 'settings' } },
  denied: { label: 'Open Access', route: { page: 'access' } },
  'disk-full': { label: 'Open Garbage collection', route: { page: 'gc' } },
  'rate-limited': { label: 'Open Settings', route: { page: 'settings' } },
}

const KIND_STYLE: Record<string, string> = { push: 'ok', tag: 'ok', pull: 'neutral', delete: 'warn', undo: 'neutral', gc: 'neutral', auth: 'bad', tls: 'bad', store: 'bad' }
const KIND_LABEL: Record<string, string> = { auth: 'refused', tls: 'TLS failure', store: 'storage' }

export function ActivityList({ events, compact = false }: { events: ActivityEvent[]; compact?: boolean }) {
  if (events.length === 0) return <p className="muted">No activity yet.</p>
  return (
    <ul className="activity">
      {events.map((e, i) => (
        <li key={e.id || `live-${i}`} className={e.failure ? 'failure' : undefined}>
          <div className="activity-line">
            <Badge kind={KIND_STYLE[e.kind]}>{KIND_LABEL[e.kind] ?? e.kind}</Badge>{' '}
            {e.repository && (
              <a href={href({ page: 'repository', name: e.repository })}>
                {e.repository}
                {e.reference ? (e.reference.includes(':') ? `@${shortDigest(e.reference)}` : `:${e.reference}`) : ''}
              </a>
            )}{' '}
            {e.count > 1 && <span className="muted">×{e.count}</span>}{' '}
            {!e.failure && e.detail && <span className="muted">{e.detail}</span>}
            <span className="muted small when" title={when(e.at)}>
              {ago(e.at)}
            </span>
          </div>
          {e.who && !compact && <div className="muted small">by {e.who}</div>}
          {e.failure && (
            <div className="failure-explained">
              <p>{e.failure.explanation}</p>
              <p>
                <strong>Fix:</strong> {e.failure.fix}
              </p>
              {FIX_PLACES[failureCode(e.detail)] && (
                <button type="button" className="small" onClick={() => navigate(FIX_PLACES[failureCode(e.detail)].route)}>
                  {FIX_PLACES[failureCode(e.detail)].label}
                </button>
              )}
              {!compact && e.detail && <p className="muted small">{e.detail}</p>}
            </div>
          )}
        </li>
      ))}
    </ul>
  )
}

function failureCode(detail: string | null): string {
  return /^([a-z-]+):/.exec(detail ?? '')?.[1] ?? ''
}
