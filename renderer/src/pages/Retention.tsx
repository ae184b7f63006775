// Retention rules on the Garbage collection page: per repository prefix, keep the last N tags,
// keep tags matching a pattern, drop tags older than D. Every GC applies them first.
import { useState } from 'react'
import type { RetentionPlanView } from '../../../server/admin/contract'
import { call } from '../client'
import { ActionsHeading, Card, ErrorNotice, Form } from '../components'
import { plural } from '../format'
import { useAction, useCall } from '../hooks'

export function RetentionCard() {
  const { data, error, reload } = useCall('retention:list', {})
  const action = useAction()
  const [prefix, setPrefix] = useState('')
  const [keepLast, setKeepLast] = useState('')
  const [keepMatching, setKeepMatching] = useState('')
  const [olderThan, setOlderThan] = useState('')
  const save = () =>
    action.run(async () => {
      await call('retention:set', {
        prefix: prefix.trim(),
        keepLast: keepLast.trim() === '' ? null : Number(keepLast),
        keepMatching: keepMatching.trim() || null,
        dropOlderThan: olderThan.trim() ? `${olderThan.trim()}d` : null,
      })
      setPrefix('')
      setKeepLast('')
      setKeepMatching('')
      setOlderThan('')
      reload()
    })
  const remove = (rulePrefix: string) =>
    action.run(async () => {
      await call('retention:remove', { prefix: rulePrefix })
      reload()
    })
  return (
    <Card title="Retention rules">
      <p className="muted">
        Each garbage collection first removes the tags these rules pick, as one deletion per repository you can undo. A repository follows the rule with the longest
        prefix that covers it; <code>*</code> covers every repository.
      </p>
      <ErrorNotice error={error} />
      {data && data.length > 0 && (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Prefix</th>
                <th>Rule</th>
                <ActionsHeading />
              </tr>
            </thead>
            <tbody>
              {data.map((rule) => (
                <tr key={rule.prefix} data-prefix={rule.prefix}>
                  <td>
                    <code>{rule.prefix}</code>
                  </td>
                  <td>{rule.summary}</td>
                  <td className="row-actions">
                    <button type="button" className="small danger" onClick={() => remove(rule.prefix)} disabled={action.busy} aria-label={`Remove the rule for ${rule.prefix}`}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Form className="inline-form" onSubmit={save}>
        <label>
          Repository prefix
          <input value={prefix} onChange={(e) => setPrefix(e.target.value)} placeholder="e.g. ci/ or *" />
        </label>
        <label>
          Keep the last
          <input type="number" min={0} value={keepLast} onChange={(e) => setKeepLast(e.target.value)} placeholder="tags" className="narrow" />
        </label>
        <label>
          Keep tags matching
          <input value={keepMatching} onChange={(e) => setKeepMatching(e.target.value)} placeholder="e.g. v\d+\.\d+\.\d+|latest" />
        </label>
        <label>
          Drop tags older than (days)
          <input type="number" min={1} value={olderThan} onChange={(e) => setOlderThan(e.target.value)} className="narrow" />
        </label>
        <button type="submit" disabled={action.busy || !prefix.trim() || (!keepLast.trim() && !olderThan.trim())}>
          Save rule
        </button>
      </Form>
      <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
    </Card>
  )
}

/** The tags the retention rules would remove before collecting, in the GC preview. */
export function RetentionPreview({ plans }: { plans: RetentionPlanView[] }) {
  const total = plans.reduce((n, p) => n + p.tags.length, 0)
  if (total === 0) return null
  const lines = plans.flatMap((p) => p.tags.map((t) => ({ key: `${p.repository}:${t.name}`, reason: t.reason, prefix: p.prefix })))
  return (
    <div className="retention-preview">
      <p>
        First, the retention rules would remove <strong>{plural(total, 'tag')}</strong> in {plural(plans.length, 'repository')}:
      </p>
      <ul className="plain mono">
        {lines.slice(0, 50).map((line) => (
          <li key={line.key}>
            {line.key} <span className="muted">— {line.reason} (rule {line.prefix})</span>
          </li>
        ))}
        {lines.length > 50 && <li className="muted">and {lines.length - 50} more</li>}
      </ul>
    </div>
  )
}
