// Webhooks: endpoints that receive push, pull and delete events (distribution's format), a test
// button, and each endpoint's delivery log with the receiver's answers.
import { useState } from 'react'
import type { WebhookView } from '../../../server/admin/contract'
import { call } from '../client'
import { ActionsHeading, Badge, Card, Dialog, Empty, ErrorNotice, Form, Loading, Notice, Page } from '../components'
import { ago, when } from '../format'
import { useAction, useCall } from '../hooks'

const ACTIONS = ['push', 'pull', 'delete'] as const

export function WebhooksPage() {
  const { data, error, reload } = useCall('webhooks:list', {})
  const [selected, setSelected] = useState<string>()
  const [removing, setRemoving] = useState<WebhookView>()
  const [tested, setTested] = useState<{ name: string; text: string; ok: boolean }>()
  const action = useAction()
  const shown = selected ?? data?.[0]?.name
  const test = (name: string) =>
    action.run(async () => {
      const result = await call('webhooks:test', { name })
      const ok = result.status !== null && result.status >= 200 && result.status < 300
      setTested({ name, ok, text: ok ? `delivered (${result.status}) in ${Math.round(result.ms)} ms` : `failed: ${result.error}` })
    })
  const remove = (name: string) =>
    action.run(async () => {
      await call('webhooks:remove', { name })
      setRemoving(undefined)
      if (selected === name) setSelected(undefined)
      reload()
    })
  return (
    <Page title="Webhooks">
      <p className="muted">
        Each endpoint receives push, pull and delete events as CNCF distribution sends them (<code>application/vnd.docker.distribution.events.v1+json</code>). Events
        wait in the data dir until delivered, in order; a failed delivery is retried with backoff.
      </p>
      <ErrorNotice error={error ?? action.error} onDismiss={() => action.setError(undefined)} />
      {tested && (
        <Notice kind={tested.ok ? 'success' : 'warning'}>
          Test event to {tested.name}: {tested.text}
        </Notice>
      )}
      <Card title="Endpoints">
        {!data ? (
          <Loading what="webhooks" />
        ) : data.length === 0 ? (
          <Empty title="No webhooks yet">
            <p>Add an endpoint below, or run <code>berth webhook add NAME URL</code>.</p>
          </Empty>
        ) : (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>URL</th>
                  <th>Events</th>
                  <th>Waiting</th>
                  <ActionsHeading />
                </tr>
              </thead>
              <tbody>
                {data.map((hook) => (
                  <tr key={hook.name} data-webhook={hook.name} aria-selected={hook.name === shown}>
                    <td>
                      <button type="button" className="link" onClick={() => setSelected(hook.name)} aria-label={`Show deliveries to ${hook.name}`}>
                        {hook.name}
                      </button>
                    </td>
                    <td>
                      <code>{hook.url}</code>
                    </td>
                    <td>{hook.actions.join(', ')}</td>
                    <td>{hook.pending}</td>
                    <td className="row-actions">
                      <button type="button" className="small" onClick={() => test(hook.name)} disabled={action.busy} aria-label={`Test ${hook.name}`}>
                        Test
                      </button>
                      <button type="button" className="small danger" onClick={() => setRemoving(hook)} aria-label={`Remove ${hook.name}`}>
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <AddWebhook onAdded={reload} />
      </Card>
      {shown && <Deliveries name={shown} />}
      {removing && (
        <Dialog
          title={`Remove ${removing.name}?`}
          onClose={() => setRemoving(undefined)}
          actions={
            <>
              <button type="button" onClick={() => setRemoving(undefined)}>
                Cancel
              </button>
              <button type="button" className="danger" onClick={() => remove(removing.name)} disabled={action.busy}>
                Remove
              </button>
            </>
          }
        >
          <p>
            {removing.url} gets no more events{removing.pending > 0 ? `, and the ${removing.pending} waiting for it are dropped` : ''}.
          </p>
        </Dialog>
      )}
    </Page>
  )
}

function AddWebhook({ onAdded }: { onAdded: () => void }) {
  const [name, setName] = useState('')
  const [url, setUrl] = useState('')
  const [header, setHeader] = useState('')
  const [actions, setActions] = useState<Set<(typeof ACTIONS)[number]>>(new Set(ACTIONS))
  const action = useAction()
  const add = () =>
    action.run(async () => {
      const headers: Record<string, string> = {}
      if (header.trim()) {
        const colon = header.indexOf(':')
        if (colon <= 0) throw new Error('a header is NAME: VALUE, such as Authorization: Bearer …')
        headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim()
      }
      await call('webhooks:add', { name, url, actions: ACTIONS.filter((a) => actions.has(a)), headers })
      setName('')
      setUrl('')
      setHeader('')
      onAdded()
    })
  return (
    <Form className="inline-form" onSubmit={add}>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ci" />
      </label>
      <label>
        URL
        <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://ci.example/hooks/registry" />
      </label>
      <label>
        Header (optional)
        <input value={header} onChange={(e) => setHeader(e.target.value)} placeholder="Authorization: Bearer …" />
      </label>
      <fieldset className="checks">
        <legend>Events</legend>
        {ACTIONS.map((a) => (
          <label key={a} className="check">
            <input
              type="checkbox"
              checked={actions.has(a)}
              onChange={(e) => {
                const next = new Set(actions)
                if (e.target.checked) next.add(a)
                else next.delete(a)
                setActions(next)
              }}
            />
            {a}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={action.busy || !name.trim() || !url.trim() || actions.size === 0}>
        Add webhook
      </button>
      <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
    </Form>
  )
}

function Deliveries({ name }: { name: string }) {
  const { data, error } = useCall('webhooks:deliveries', { name }, { follow: 'activity' })
  return (
    <Card title={`Deliveries to ${name}`}>
      <ErrorNotice error={error} />
      {data && data.length === 0 && <p className="muted">Nothing sent yet.</p>}
      {data && data.length > 0 && (
        <div className="table-scroll">
          <table className="deliveries">
            <thead>
              <tr>
                <th>When</th>
                <th>Event</th>
                <th>Attempt</th>
                <th>Answer</th>
                <th>Time</th>
              </tr>
            </thead>
            <tbody>
              {data.map((d) => (
                <tr key={d.id}>
                  <td title={when(d.at)}>{ago(d.at)}</td>
                  <td>
                    {d.action} <code className="small">{d.eventId.slice(0, 8)}</code>
                  </td>
                  <td>{d.attempt}</td>
                  <td>
                    <Badge kind={d.status !== null && d.status >= 200 && d.status < 300 ? 'ok' : 'bad'}>{d.status ?? 'no answer'}</Badge>{' '}
                    {d.error && <span className="muted small">{d.error}</span>}
                  </td>
                  <td>{d.ms} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  )
}
