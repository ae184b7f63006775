// Access: who may pull, push and delete which repositories (grants on prefixes), groups of users,
// robot tokens for CI, and a check that explains one decision.
import { useState } from 'react'
import type { AccessView } from '../../../server/admin/contract'
import { call } from '../client'
import { Badge, Card, CopyButton, Dialog, ErrorNotice, Form, Loading, Notice, Page } from '../components'
import { ago, when } from '../format'
import { useAction, useCall } from '../hooks'

const ACTIONS = ['pull', 'push', 'delete'] as const

export function AccessPage() {
  const { data, error, reload } = useCall('access:get', {})
  return (
    <Page title="Access">
      <p className="muted">
        These rules apply on the TLS listener when writes are for users (or it is pull-only), and on the mTLS listener to client
        certificates (<code>cert:NAME</code>). <code>users/NAME/</code> is always private to NAME. Changes apply at once.
      </p>
      <ErrorNotice error={error} />
      {!data && !error && <Loading what="access rules" />}
      {data && (
        <>
          <GrantsCard access={data} onChange={reload} />
          <CheckCard />
          <GroupsCard access={data} onChange={reload} />
          <TokensCard access={data} onChange={reload} />
        </>
      )}
    </Page>
  )
}

function GrantsCard({ access, onChange }: { access: AccessView; onChange: () => void }) {
  const [who, setWho] = useState('authenticated')
  const [actions, setActions] = useState<string[]>(['pull'])
  const [prefix, setPrefix] = useState('')
  const action = useAction()
  const grant = () =>
    action.run(async () => {
      await call('access:grant', { who: who.trim(), actions: actions.join(','), prefix: prefix.trim() })
      setPrefix('')
      onChange()
    })
  const revoke = (g: AccessView['grants'][number]) => action.run(async () => (await call('access:revoke', { who: g.who, actions: g.action, prefix: g.prefix }), onChange()))
  const toggle = (a: string) => setActions(actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a])
  return (
    <Card title="Who may do what">
      <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Who</th>
              <th scope="col">May</th>
              <th scope="col">Repositories</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {access.grants.map((g) => (
              <tr key={`${g.who} ${g.action} ${g.prefix}`}>
                <td>
                  <code>{g.who}</code>
                </td>
                <td>
                  <Badge kind={g.action === 'pull' ? 'neutral' : g.action === 'push' ? 'ok' : 'warn'}>{g.action}</Badge>
                </td>
                <td>{g.prefix === '*' ? <span>every repository outside users/</span> : <code>{g.prefix}</code>}</td>
                <td className="row-actions">
                  <button type="button" className="small" onClick={() => revoke(g)} disabled={action.busy} aria-label={`Revoke ${g.who} ${g.action} ${g.prefix}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
            <tr>
              <td>
                <code>user:NAME</code>
              </td>
              <td>pull, push, delete</td>
              <td>
                <code>users/NAME/</code> <span className="muted small">built in</span>
              </td>
              <td />
            </tr>
          </tbody>
        </table>
      </div>
      <Form className="inline-form" onSubmit={grant}>
        <label>
          Who
          <input value={who} onChange={(e) => setWho(e.target.value)} list="access-who" aria-describedby="who-help" />
          <datalist id="access-who">
            <option value="anonymous" />
            <option value="authenticated" />
            {access.users.map((u) => (
              <option key={u.name} value={`user:${u.name}`} />
            ))}
            {access.groups.map((g) => (
              <option key={g.name} value={`group:${g.name}`} />
            ))}
            {access.tokens.map((t) => (
              <option key={t.name} value={`token:${t.name}`} />
            ))}
          </datalist>
        </label>
        <fieldset className="checks">
          <legend>May</legend>
          {ACTIONS.map((a) => (
            <label key={a} className="check">
              <input type="checkbox" checked={actions.includes(a)} onChange={() => toggle(a)} /> {a}
            </label>
          ))}
        </fieldset>
        <label>
          Repository prefix
          <input value={prefix} onChange={(e) => setPrefix(e.target.value)} placeholder="apps/web/ or *" />
        </label>
        <button type="submit" className="primary" disabled={!who.trim() || !prefix.trim() || actions.length === 0 || action.busy}>
          Grant
        </button>
      </Form>
      <p className="muted small" id="who-help">
        Who: anonymous (everyone), authenticated (anyone signed in), user:NAME, group:NAME, token:NAME or cert:NAME.
      </p>
    </Card>
  )
}

function CheckCard() {
  const [who, setWho] = useState('anonymous')
  const [what, setWhat] = useState('pull')
  const [repository, setRepository] = useState('')
  const [answer, setAnswer] = useState<{ allow: boolean; because: string }>()
  const action = useAction()
  const check = () => action.run(async () => setAnswer(await call('access:check', { who: who.trim(), action: what, repository: repository.trim() })))
  return (
    <Card title="Check a decision">
      <Form className="inline-form" onSubmit={check}>
        <label>
          Who
          <input value={who} onChange={(e) => setWho(e.target.value)} />
        </label>
        <label>
          Action
          <select value={what} onChange={(e) => setWhat(e.target.value)}>
            {ACTIONS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
        <label>
          Repository
          <input value={repository} onChange={(e) => setRepository(e.target.value)} placeholder="apps/web" />
        </label>
        <button type="submit" disabled={!repository.trim() || action.busy}>
          Check
        </button>
      </Form>
      <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
      {answer && (
        <p role="status" className="decision">
          <Badge kind={answer.allow ? 'ok' : 'bad'}>{answer.allow ? 'allow' : 'deny'}</Badge> {answer.because}
        </p>
      )}
    </Card>
  )
}

function GroupsCard({ access, onChange }: { access: AccessView; onChange: () => void }) {
  const [name, setName] = useState('')
  const [member, setMember] = useState<Record<string, string>>({})
  const action = useAction()
  const add = () => action.run(async () => (await call('groups:add', { name: name.trim() }), setName(''), onChange()))
  const addMember = (team: string) => action.run(async () => (await call('groups:member', { team, user: member[team] ?? '', add: true }), setMember({ ...member, [team]: '' }), onChange()))
  return (
    <Card title="Groups">
      <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
      {access.groups.length === 0 && <p className="muted">No groups yet. A group's members share its grants (group:TEAM).</p>}
      <ul className="plain">
        {access.groups.map((g) => (
          <li key={g.name}>
            <strong>{g.name}</strong>{' '}
            {g.members.map((m) => (
              <span key={m} className="chip">
                {m}{' '}
                <button type="button" className="link small" onClick={() => action.run(async () => (await call('groups:member', { team: g.name, user: m, add: false }), onChange()))} aria-label={`Remove ${m} from ${g.name}`}>
                  ×
                </button>
              </span>
            ))}
            <Form className="inline-form compact" onSubmit={() => addMember(g.name)}>
              <label>
                <span className="visually-hidden">User to add to {g.name}</span>
                <select value={member[g.name] ?? ''} onChange={(e) => setMember({ ...member, [g.name]: e.target.value })}>
                  <option value="">add a user…</option>
                  {access.users
                    .filter((u) => !g.members.includes(u.name))
                    .map((u) => (
                      <option key={u.name}>{u.name}</option>
                    ))}
                </select>
              </label>
              <button type="submit" className="small" disabled={!member[g.name] || action.busy}>
                Add
              </button>
              <button type="button" className="small danger" onClick={() => action.run(async () => (await call('groups:remove', { name: g.name }), onChange()))}>
                Delete group
              </button>
            </Form>
          </li>
        ))}
      </ul>
      <Form className="inline-form" onSubmit={add}>
        <label>
          New group
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="team" />
        </label>
        <button type="submit" disabled={!name.trim() || action.busy}>
          Add group
        </button>
      </Form>
    </Card>
  )
}

function TokensCard({ access, onChange }: { access: AccessView; onChange: () => void }) {
  const [name, setName] = useState('')
  const [scope, setScope] = useState('')
  const [days, setDays] = useState('90')
  const [created, setCreated] = useState<{ name: string; token: string }>()
  const [revoking, setRevoking] = useState<string>()
  const action = useAction()
  const create = () =>
    action.run(async () => {
      const result = await call('tokens:create', { name: name.trim(), scopes: scope.split(/\s+/).filter(Boolean), expiresInDays: days ? Number(days) : null })
      setCreated({ name: name.trim(), token: result.token })
      setName('')
      setScope('')
      onChange()
    })
  return (
    <Card title="Robot tokens for CI">
      <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
      {created && (
        <Notice kind="success">
          Token <strong>{created.name}</strong>, shown only now: <code className="secret">{created.token}</code> <CopyButton text={created.token} />
          <br />
          Use it as a password with any user name: <code>docker login -u ci -p TOKEN HOST:PORT</code>, or as a Bearer token.
        </Notice>
      )}
      {access.tokens.length === 0 && <p className="muted">No tokens yet.</p>}
      <ul className="plain">
        {access.tokens.map((t) => (
          <li key={t.name}>
            <strong>{t.name}</strong> <Badge kind={t.state === 'valid' ? 'ok' : 'bad'}>{t.state}</Badge>{' '}
            <code>{t.scope.map((s) => `${s.prefix}:${s.actions.join(',')}`).join(' ')}</code>{' '}
            <span className="muted small">
              created {ago(t.createdAt)}
              {t.expiresAt ? `, expires ${when(t.expiresAt)}` : ', never expires'}
            </span>{' '}
            {t.state === 'valid' && (
              <button type="button" className="small danger" onClick={() => setRevoking(t.name)}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
      <Form className="inline-form" onSubmit={create}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-web" />
        </label>
        <label>
          Scope
          <input value={scope} onChange={(e) => setScope(e.target.value)} placeholder="apps/web/:pull,push" />
        </label>
        <label>
          Expires after (days)
          <input type="number" min="1" value={days} onChange={(e) => setDays(e.target.value)} />
        </label>
        <button type="submit" disabled={!name.trim() || !scope.trim() || action.busy}>
          Create token
        </button>
      </Form>
      {revoking && (
        <Dialog
          title={`Revoke token ${revoking}?`}
          onClose={() => setRevoking(undefined)}
          actions={
            <button
              type="button"
              className="danger"
              onClick={() =>
                action.run(async () => {
                  await call('tokens:revoke', { name: revoking })
                  setRevoking(undefined)
                  onChange()
                })
              }
            >
              Revoke
            </button>
          }
        >
          <p>Every job that uses it is refused from its next request on. This cannot be undone.</p>
        </Dialog>
      )}
    </Card>
  )
}
