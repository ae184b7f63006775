// Garbage collection: a dry-run preview (what and how many bytes), options, a run with a
// progress bar, its result, the history of runs, and the deletions a run would make permanent.
import { useState } from 'react'
import type { GcPreviewView, GcRunView } from '../../../server/admin/contract'
import { call } from '../client'
import { Card, Dialog, ErrorNotice, Notice, Page, Progress } from '../components'
import { bytes, plural, shortDigest, when } from '../format'
import { useAction, useCall } from '../hooks'
import { useLive } from '../live'
import { describeDeletion, useUndo } from '../undo'
import { RecentDeletions } from './Repository'
import { RetentionCard, RetentionPreview } from './Retention'

const PHASES: Record<string, string> = {
  mark: 'Marking what is in use',
  manifests: 'Removing manifests',
  links: 'Unlinking blobs',
  blobs: 'Removing blobs',
  uploads: 'Removing stale uploads',
  repositories: 'Removing empty repositories',
  done: 'Done',
}

export function GcPage() {
  const [untagged, setUntagged] = useState(false)
  const [preview, setPreview] = useState<GcPreviewView>()
  const [result, setResult] = useState<GcRunView>()
  const history = useCall('gc:history', {})
  const deletions = useCall('deletions:list', {})
  const pending = (deletions.data ?? []).filter((d) => d.state === 'undoable')
  const [confirming, setConfirming] = useState(false)
  const action = useAction()
  const undo = useUndo()
  const { gcProgress } = useLive()

  const runPreview = () =>
    action.run(async () => {
      setResult(undefined)
      setPreview(await call('gc:preview', { untagged }))
      history.reload()
    })
  const run = () =>
    action.run(async () => {
      setConfirming(false)
      setResult(await call('gc:run', { untagged }))
      setPreview(undefined)
      history.reload()
    })

  const running = action.busy && gcProgress && gcProgress.phase !== 'done'
  return (
    <Page title="Garbage collection">
      <Card>
        <p>
          Deleting a tag or manifest only removes the name. Garbage collection removes what nothing references any more and gives the disk space back.
          Pushes and pulls go on while it runs; content uploaded in the last hour is kept.
        </p>
        <label className="check">
          <input type="checkbox" checked={untagged} onChange={(e) => (setUntagged(e.target.checked), setPreview(undefined))} />
          Also remove manifests that lost their last tag (unless an index, signature or SBOM that is kept refers to them)
        </label>
        <div className="buttons">
          <button type="button" onClick={runPreview} disabled={action.busy}>
            Preview (dry run)
          </button>
          <button type="button" className="primary" onClick={() => (pending.length ? setConfirming(true) : run())} disabled={action.busy}>
            Run garbage collection
          </button>
        </div>
        {action.busy && <Progress value={gcProgress && gcProgress.total ? gcProgress.done / gcProgress.total : 0} label={running ? PHASES[gcProgress.phase] : 'Working'} />}
        <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
      </Card>

      {preview && (
        <Card title="Preview">
          <RetentionPreview plans={preview.retention} />
          {preview.bytes === 0 && preview.uploads === 0 && preview.repositories === 0 ? (
            <p>Nothing to collect: everything stored is in use.</p>
          ) : (
            <>
              <p className="gc-summary">
                Would free <strong>{bytes(preview.bytes)}</strong>: {plural(preview.manifests, 'manifest')}, {plural(preview.blobs, 'blob')},{' '}
                {plural(preview.uploads, 'stale upload')}, {plural(preview.repositories, 'empty repository')}.
              </p>
              {preview.items.length < preview.manifests + preview.blobs + preview.uploads + preview.repositories && (
                <p className="muted small">The largest 200 of each kind are listed; the totals above count everything.</p>
              )}
              <div className="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th>What</th>
                      <th>Name</th>
                      <th>Size</th>
                    </tr>
                  </thead>
                  <tbody>
                    {preview.items.map((item) => (
                      <tr key={`${item.kind}:${item.name}`}>
                        <td>{item.kind}</td>
                        <td>
                          <code title={item.name}>{item.kind === 'blob' ? shortDigest(item.name) : item.name.replace(/@(sha256:[0-9a-f]{12})[0-9a-f]+/, '@$1')}</code>
                        </td>
                        <td>{item.size ? bytes(item.size) : '–'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </Card>
      )}

      <RetentionCard />

      {pending.length > 0 && (
        <RecentDeletions title="Recently deleted, pending garbage collection" deletions={pending} onUndo={undo.undo} busy={undo.busy} />
      )}

      {confirming && (
        <Dialog
          title="Make these deletions permanent?"
          onClose={() => setConfirming(false)}
          actions={
            <>
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
              <button type="button" className="danger" onClick={run}>
                Run garbage collection
              </button>
            </>
          }
        >
          <p>
            {pending.length === 1 ? 'This deletion' : `These ${pending.length} deletions`} can be undone now. Once garbage collection removes what they freed,
            they cannot:
          </p>
          <ul className="plain">
            {pending.slice(0, 10).map((d) => (
              <li key={d.id}>{describeDeletion(d)}</li>
            ))}
            {pending.length > 10 && <li className="muted">and {pending.length - 10} more</li>}
          </ul>
        </Dialog>
      )}

      {result && (
        <Notice kind="success">
          {result.retainedAway ? `The retention rules removed ${plural(result.retainedAway, 'tag')}. ` : ''}
          Freed <strong>{bytes(result.bytes)}</strong>: removed {plural(result.manifests, 'manifest')}, {plural(result.blobs, 'blob')}, {plural(result.uploads, 'stale upload')}{' '}
          and {plural(result.repositories, 'empty repository')} in {((result.finishedAt - result.startedAt) / 1000).toFixed(1)} s.
        </Notice>
      )}

      <Card title="History">
        {history.data && history.data.length > 0 ? (
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Kind</th>
                <th>Freed</th>
                <th>Manifests</th>
                <th>Blobs</th>
                <th>Uploads</th>
              </tr>
            </thead>
            <tbody>
              {history.data.map((run) => (
                <tr key={run.runId}>
                  <td>{when(run.startedAt)}</td>
                  <td>
                    {run.dryRun ? 'dry run' : 'run'}
                    {run.untagged ? ', untagged' : ''}
                  </td>
                  <td>{bytes(run.bytes)}</td>
                  <td>{run.manifests}</td>
                  <td>{run.blobs}</td>
                  <td>{run.uploads}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">No garbage collection has run yet.</p>
        )}
      </Card>
    </Page>
  )
}
