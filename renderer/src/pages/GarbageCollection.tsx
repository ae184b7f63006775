// Garbage collection: a dry-run preview (what and how many bytes), options, a run with a
// progress bar, its result, and the history of runs.
import { useState } from 'react'
import type { GcPreviewView, GcRunView } from '../../../server/admin/contract'
import { call } from '../client'
import { Card, ErrorNotice, Notice, Page, Progress } from '../components'
import { bytes, plural, shortDigest, when } from '../format'
import { useAction, useCall } from '../hooks'
import { useLive } from '../live'

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
  const action = useAction()
  const { gcProgress } = useLive()

  const runPreview = () =>
    action.run(async () => {
      setResult(undefined)
      setPreview(await call('gc:preview', { untagged }))
      history.reload()
    })
  const run = () =>
    action.run(async () => {
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
          <button type="button" className="primary" onClick={run} disabled={action.busy}>
            Run garbage collection
          </button>
        </div>
        {action.busy && <Progress value={gcProgress && gcProgress.total ? gcProgress.done / gcProgress.total : 0} label={running ? PHASES[gcProgress.phase] : 'Working'} />}
        <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
      </Card>

      {preview && (
        <Card title="Preview">
          {preview.bytes === 0 && preview.uploads === 0 && preview.repositories === 0 ? (
            <p>Nothing to collect: everything stored is in use.</p>
          ) : (
            <>
              <p className="gc-summary">
                Would free <strong>{bytes(preview.bytes)}</strong>: {plural(preview.manifests, 'manifest')}, {plural(preview.blobs, 'blob')},{' '}
                {plural(preview.uploads, 'stale upload')}, {plural(preview.repositories, 'empty repository')}.
              </p>
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
            </>
          )}
        </Card>
      )}

      {result && (
        <Notice kind="success">
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
