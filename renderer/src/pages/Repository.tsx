// One repository: its tags and untagged manifests; pull commands; delete with a preview of what
// GC would free; undo; add a tag to a digest.
import { useState } from 'react'
import type { DeletionView, GcCountsView, ManifestSummary, TagView } from '../../../server/admin/contract'
import { call } from '../client'
import { Badge, Card, CopyButton, Dialog, ErrorNotice, Loading, Notice, Page } from '../components'
import { ago, bytes, plural, shortDigest, when } from '../format'
import { useAction, useCall } from '../hooks'
import { href, navigate } from '../router'

type DeleteTarget = { kind: 'tag'; tag: string } | { kind: 'manifest'; digest: string } | { kind: 'repository' }

export function RepositoryPage({ name }: { name: string }) {
  const { data, error } = useCall('repository:get', { name })
  const deletions = useCall('deletions:list', {})
  const [confirming, setConfirming] = useState<DeleteTarget>()
  const [tagging, setTagging] = useState<ManifestSummary>()
  const [done, setDone] = useState<DeletionView>()
  const undo = useAction()
  const recent = (deletions.data ?? []).filter((d) => d.repository === name && d.undoneAt === null).slice(0, 5)

  const undoDeletion = (id: number) =>
    undo.run(async () => {
      await call('deletions:undo', { id })
      setDone(undefined)
    })

  if (!data) {
    return (
      <Page title={name}>
        {error ? (
          <>
            <ErrorNotice error={error} />
            {recent.length > 0 && <RecentDeletions deletions={recent} onUndo={undoDeletion} busy={undo.busy} />}
          </>
        ) : (
          <Loading what="tags" />
        )}
      </Page>
    )
  }
  const pull = (reference: string) => (data.pullAddress ? `docker pull ${data.pullAddress}/${name}${reference}` : null)
  return (
    <Page
      title={
        <>
          <a href={href({ page: 'repositories' })} className="crumb">
            Repositories
          </a>{' '}
          / {name}
        </>
      }
      actions={
        <button type="button" className="danger" onClick={() => setConfirming({ kind: 'repository' })}>
          Delete repository
        </button>
      }
    >
      {done && (
        <Notice kind="success">
          Deleted {done.kind} {done.reference ?? done.repository}.{' '}
          <button type="button" className="small" onClick={() => undoDeletion(done.id)} disabled={undo.busy}>
            Undo
          </button>
        </Notice>
      )}
      <ErrorNotice error={undo.error ?? error} onDismiss={() => undo.setError(undefined)} />
      <Card title={`Tags (${data.tags.length})`}>
        {data.tags.length === 0 ? (
          <p className="muted">No tags. Untagged manifests are below.</p>
        ) : (
          <ManifestTable
            rows={data.tags}
            repository={name}
            pull={(row) => pull(`:${(row as TagView).tag}`)}
            onDelete={(row) => setConfirming({ kind: 'tag', tag: (row as TagView).tag })}
            onTag={setTagging}
          />
        )}
      </Card>
      {data.untagged.length > 0 && (
        <Card title={`Untagged manifests (${data.untagged.length})`}>
          <ManifestTable rows={data.untagged} repository={name} pull={(row) => pull(`@${row.digest}`)} onDelete={(row) => setConfirming({ kind: 'manifest', digest: row.digest })} onTag={setTagging} />
        </Card>
      )}
      {recent.length > 0 && <RecentDeletions deletions={recent} onUndo={undoDeletion} busy={undo.busy} />}
      {confirming && (
        <ConfirmDelete
          repository={name}
          target={confirming}
          onClose={() => setConfirming(undefined)}
          onDeleted={(record) => {
            setConfirming(undefined)
            setDone(record)
            if (record.kind === 'repository') navigate({ page: 'repositories' })
          }}
        />
      )}
      {tagging && <AddTag repository={name} manifest={tagging} onClose={() => setTagging(undefined)} />}
    </Page>
  )
}

function ManifestTable({
  rows,
  repository,
  pull,
  onDelete,
  onTag,
}: {
  rows: (ManifestSummary | TagView)[]
  repository: string
  pull: (row: ManifestSummary) => string | null
  onDelete: (row: ManifestSummary) => void
  onTag: (row: ManifestSummary) => void
}) {
  return (
    <table>
      <thead>
        <tr>
          <th>Tag</th>
          <th>Digest</th>
          <th>Size</th>
          <th>Platforms</th>
          <th>Pushed</th>
          <th>
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const tag = 'tag' in row ? row.tag : null
          const command = pull(row)
          return (
            <tr key={tag ?? row.digest} data-tag={tag ?? undefined}>
              <td>
                {tag ?? <span className="muted">untagged</span>} {row.signed && <Badge kind="ok" title="has a signature">signed</Badge>}{' '}
                {row.kind !== 'image' && <Badge>{row.kind}</Badge>}
              </td>
              <td>
                <a href={href({ page: 'manifest', repository, digest: row.digest })} title={row.digest}>
                  <code>{shortDigest(row.digest)}</code>
                </a>
              </td>
              <td>{bytes(row.size)}</td>
              <td>{row.platforms.length ? row.platforms.join(', ') : <span className="muted">–</span>}</td>
              <td title={when(row.pushedAt)}>
                {ago(row.pushedAt)}
                {row.pushedBy && <div className="muted small">by {row.pushedBy}</div>}
              </td>
              <td className="row-actions">
                {command && <CopyButton text={command} label="Copy pull" />}
                <button type="button" className="small" onClick={() => onTag(row)}>
                  Add tag
                </button>
                <button type="button" className="small danger" onClick={() => onDelete(row)} aria-label={`Delete ${tag ?? row.digest}`}>
                  Delete
                </button>
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

function describeFreed(counts: GcCountsView): string {
  if (counts.bytes <= 0) return 'nothing'
  return `${bytes(counts.bytes)} (${plural(counts.manifests, 'manifest')}, ${plural(counts.blobs, 'blob')})`
}

function ConfirmDelete({ repository, target, onClose, onDeleted }: { repository: string; target: DeleteTarget; onClose: () => void; onDeleted: (record: DeletionView) => void }) {
  const args = target.kind === 'tag' ? { repository, tag: target.tag } : target.kind === 'manifest' ? { repository, digest: target.digest } : { repository }
  const preview = useCall('delete:preview', args, { follow: 'none' })
  const action = useAction()
  const what = target.kind === 'tag' ? `tag ${repository}:${target.tag}` : target.kind === 'manifest' ? `manifest ${shortDigest(target.digest)} and its tags` : `repository ${repository}, every tag and manifest in it`
  const remove = () =>
    action.run(async () => {
      const record =
        target.kind === 'tag'
          ? await call('tag:delete', { repository, tag: target.tag })
          : target.kind === 'manifest'
            ? await call('manifest:delete', { repository, digest: target.digest })
            : await call('repository:delete', { name: repository })
      onDeleted(record)
    })
  return (
    <Dialog
      title={`Delete ${target.kind}?`}
      onClose={onClose}
      actions={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="danger" onClick={remove} disabled={action.busy}>
            {action.busy ? 'Deleting…' : 'Delete'}
          </button>
        </>
      }
    >
      <p>This deletes the {what}. You can undo it until a garbage collection runs.</p>
      {preview.data ? (
        <p className="gc-estimate">
          Garbage collection would then free <strong>{describeFreed(preview.data.plain)}</strong>
          {preview.data.untagged.bytes !== preview.data.plain.bytes && <> — or {describeFreed(preview.data.untagged)} when it also removes untagged manifests</>}.
        </p>
      ) : (
        <p className="muted">{preview.error ?? 'Working out what garbage collection would free…'}</p>
      )}
      <ErrorNotice error={action.error} />
    </Dialog>
  )
}

function AddTag({ repository, manifest, onClose }: { repository: string; manifest: ManifestSummary; onClose: () => void }) {
  const [tag, setTag] = useState('')
  const action = useAction()
  const save = () =>
    action.run(async () => {
      await call('tag:add', { repository, digest: manifest.digest, tag: tag.trim() })
      onClose()
    })
  return (
    <Dialog
      title="Add a tag"
      onClose={onClose}
      actions={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={save} disabled={action.busy || !tag.trim()}>
            Add tag
          </button>
        </>
      }
    >
      <p>
        Tag <code>{shortDigest(manifest.digest)}</code> in {repository} as:
      </p>
      <input aria-label="New tag" value={tag} onChange={(e) => setTag(e.target.value)} placeholder="e.g. stable" autoFocus onKeyDown={(e) => e.key === 'Enter' && save()} />
      <ErrorNotice error={action.error} />
    </Dialog>
  )
}

function RecentDeletions({ deletions, onUndo, busy }: { deletions: DeletionView[]; onUndo: (id: number) => void; busy: boolean }) {
  return (
    <Card title="Recently deleted">
      <ul className="plain">
        {deletions.map((d) => (
          <li key={d.id}>
            {d.kind} {d.reference ?? d.repository} · {ago(d.at)}{' '}
            <button type="button" className="small" onClick={() => onUndo(d.id)} disabled={busy}>
              Undo
            </button>
          </li>
        ))}
      </ul>
    </Card>
  )
}

