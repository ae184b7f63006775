// Settings: listeners, the TLS write policy, users, the delete switch, the data dir, GC schedule.
import { useEffect, useState } from 'react'
import type { SettingsView } from '../../../server/admin/contract'
import { call } from '../client'
import { Card, ErrorNotice, Form, Loading, Notice, Page } from '../components'
import { ago } from '../format'
import { useAction, useCall } from '../hooks'

type Draft = Pick<SettingsView, 'http' | 'https' | 'mtls' | 'httpsWrite' | 'auth' | 'deleteEnabled' | 'gcSchedule' | 'rateLimit'>

export function SettingsPage() {
  const { data, error } = useCall('settings:get', {})
  const [draft, setDraft] = useState<Draft>()
  const [saved, setSaved] = useState(false)
  const [confirmOpen, setConfirmOpen] = useState(false)
  const action = useAction()
  useEffect(() => {
    if (data && !draft) setDraft({ http: data.http, https: data.https, mtls: data.mtls, httpsWrite: data.httpsWrite, auth: data.auth, deleteEnabled: data.deleteEnabled, gcSchedule: data.gcSchedule, rateLimit: data.rateLimit })
  }, [data, draft])

  if (!data || !draft) return <Page title="Settings">{error ? <ErrorNotice error={error} /> : <Loading what="settings" />}</Page>
  const set = (patch: Partial<Draft>) => (setDraft({ ...draft, ...patch }), setSaved(false))
  // only what the user changed is saved: an untouched setting keeps following its default
  const changed = Object.fromEntries(Object.entries(draft).filter(([key, value]) => data[key as keyof Draft] !== value)) as Partial<Draft>
  const tlsHost = draft.https.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  const tlsOnNetwork = draft.https !== 'off' && !/^(localhost|127\.\d+\.\d+\.\d+|::1)$/.test(tlsHost)
  const opensToNetwork = tlsOnNetwork && draft.httpsWrite === 'open' && ('httpsWrite' in changed || 'https' in changed)
  const save = () =>
    action.run(async () => {
      await call('settings:update', { ...changed, ...(opensToNetwork ? { confirmOpenWrites: confirmOpen } : {}) })
      setSaved(true)
    })
  const restart = () => action.run(() => call('app:restart', {}))
  return (
    <Page title="Settings">
      {data.restartNeeded && (
        <Notice kind="warning">
          Listener changes are saved and take effect when Berth restarts.{' '}
          {data.canRestart ? (
            <button type="button" className="small" onClick={restart}>
              Restart now
            </button>
          ) : (
            'Stop berth serve (Ctrl-C) and start it again.'
          )}
        </Notice>
      )}
      <Form onSubmit={save}>
        <Card title="Listeners">
          <p className="muted">HOST:PORT, or off. Plain HTTP serves loopback only; use 0.0.0.0 or a LAN address for TLS to reach Berth from other machines.</p>
          <div className="form-grid">
            <label>
              Plain HTTP
              <input value={draft.http} onChange={(e) => set({ http: e.target.value })} />
            </label>
            <label>
              TLS
              <input value={draft.https} onChange={(e) => set({ https: e.target.value })} />
            </label>
            <label>
              mTLS
              <input value={draft.mtls} onChange={(e) => set({ mtls: e.target.value })} />
            </label>
            <label>
              Writes on TLS
              <select value={draft.httpsWrite} onChange={(e) => set({ httpsWrite: e.target.value as Draft['httpsWrite'] })}>
                <option value="auto">automatic: open on loopback, users elsewhere</option>
                <option value="open">open: anyone who can connect may push</option>
                <option value="users">users: push after docker/podman login</option>
                <option value="off">off: pull only</option>
              </select>
            </label>
            <label>
              How users sign in
              <select value={draft.auth} onChange={(e) => set({ auth: e.target.value as Draft['auth'] })}>
                <option value="token">tokens (docker pulls anonymously; docker login checks the password)</option>
                <option value="basic">plain Basic (docker cannot pull anonymously)</option>
              </select>
            </label>
          </div>
          {data.httpsWriteInForce && (
            <p className="muted small">
              Now in force on the TLS listener: <strong>{data.httpsWriteInForce === 'off' ? 'pull-only' : data.httpsWriteInForce}</strong>.
            </p>
          )}
          {opensToNetwork && (
            <label className="check warning-text">
              <input type="checkbox" checked={confirmOpen} onChange={(e) => setConfirmOpen(e.target.checked)} />
              I understand that anyone who can reach {draft.https} may push, overwrite and delete images.
            </label>
          )}
        </Card>
        <Card title="Deletes and garbage collection">
          <label className="check">
            <input type="checkbox" checked={draft.deleteEnabled} onChange={(e) => set({ deleteEnabled: e.target.checked })} />
            Allow deletes through the registry API (the GUI and CLI can always delete)
          </label>
          <label>
            Garbage collection schedule
            <input value={draft.gcSchedule} onChange={(e) => set({ gcSchedule: e.target.value })} aria-describedby="gc-schedule-help" />
          </label>
          <p className="muted small" id="gc-schedule-help">
            off, daily, hourly, every:HOURS, after:DELETES, or two of them comma-separated (daily,after:50).
          </p>
          <label>
            Rate limit per client address
            <input value={draft.rateLimit} onChange={(e) => set({ rateLimit: e.target.value })} aria-describedby="rate-limit-help" />
          </label>
          <p className="muted small" id="rate-limit-help">
            auto (200 reads and 50 writes a second for clients on other machines, none on this one), off, or READS,WRITES per second for every
            client (such as 100,20). Over it, clients get 429 and retry.
          </p>
        </Card>
        <div className="buttons">
          <button type="submit" className="primary" disabled={action.busy || Object.keys(changed).length === 0 || (opensToNetwork && !confirmOpen)}>
            Save settings
          </button>
          {saved && <span className="ok">Saved.</span>}
        </div>
        <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
      </Form>
      <UsersCard />
      <Card title="Data">
        <p>
          Blobs, metadata and certificates live in <code>{data.dataDir}</code>.
        </p>
      </Card>
    </Page>
  )
}

function UsersCard() {
  const { data, error } = useCall('users:list', {})
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const action = useAction()
  const add = () =>
    action.run(async () => {
      await call('users:add', { name: name.trim(), password })
      setName('')
      setPassword('')
    })
  return (
    <Card title="Users (docker login on the TLS listener)">
      <ErrorNotice error={action.error ?? error} onDismiss={() => action.setError(undefined)} />
      {data && data.length === 0 && <p className="muted">No users. With writes set to basic, add one and log in with docker login or podman login.</p>}
      {data && data.length > 0 && (
        <ul className="plain">
          {data.map((u) => (
            <li key={u.name}>
              <strong>{u.name}</strong> <span className="muted small">added {ago(u.createdAt)}</span>{' '}
              <button type="button" className="small danger" onClick={() => action.run(() => call('users:remove', { name: u.name }))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <Form className="inline-form" onSubmit={add}>
        <label>
          User name
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        </label>
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
        </label>
        <button type="submit" disabled={!name.trim() || !password || action.busy}>
          Add user
        </button>
      </Form>
    </Card>
  )
}
