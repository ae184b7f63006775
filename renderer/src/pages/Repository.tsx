// One repository: a page of its tags at a time (filter, sort, paging), its untagged manifests,
// pull commands, deleting one or a selection with a preview of what GC would free, and adding
// a tag to a digest.
import { useEffect, useState } from 'react'
import type { DeletionView, GcCountsView, ManifestSummary, PullOption, TagSort, TagView } from '../../../server/admin/contract'
import { call } from '../client'
import { ActionsHeading, Badge, Card, Dialog, ErrorNotice, Loading, Page } from '../components'
import { ago, bytes, plural, shortDigest, when } from '../format'
import { useAction, useCall } from '../hooks'
import { PullButton } from '../pull'
import { href, navigate } from '../router'
import { describeDeletion, useUndo } from '../undo'

export type DeleteTarget =
  | { kind: 'tag'; tag: string }
  | { kind: 'manifest'; digest: string }
  | { kind: 'repository' }
  | { kind: 'selection'; tags: string[]; digests: string[] }

const PAGE_SIZE = 50

export function RepositoryPage({ name, initialFilter = '' }: { name: string; initialFilter?: string }) {
  const [filter, setFilter] = useState(initialFilter)
  const query = useDebounced(filter.trim(), 200)
  const [sort, setSort] = useState<TagSort>('newest')
  const [offset, setOffset] = useState(0)
  const { data, error } = useCall('repository:get', { name, filter: query, sort, offset, limit: PAGE_SIZE })
  const deletions = useCall('deletions:list', {})
  const [confirming, setConfirming] = useState<DeleteTarget>()
  const [tagging, setTagging] = useState<ManifestSummary>()
  const [selectedTags, setSelectedTags] = useState<Set<string>>(new Set())
  const [selectedDigests, setSelectedDigests] = useState<Set<string>>(new Set())
  const undo = useUndo()
  const recent = (deletions.data ?? []).filter((d) => d.repository === name && d.state === 'undoable').slice(0, 5)
  const selectedCount = selectedTags.size + selectedDigests.size

  // a new filter or sort starts again at the first page
  useEffect(() => setOffset(0), [query, sort])

  const clearSelection = () => {
    setSelectedTags(new Set())
    setSelectedDigests(new Set())
  }

  if (!data) {
    return (
      <Page title={name}>
        {error ? (
          <>
            <ErrorNotice error={error} />
            {recent.length > 0 && <RecentDeletions deletions={recent} onUndo={undo.undo} busy={undo.busy} />}
          </>
        ) : (
          <Loading what="tags" />
        )}
      </Page>
    )
  }
  const first = data.matching === 0 ? 0 : data.offset + 1
  const last = data.offset + data.tags.length
  return (
    <Page
      documentTitle={name}
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
      <ErrorNotice error={error} />
      <Card title={`Tags (${data.tagCount})`}>
        {data.tagCount === 0 ? (
          <p className="muted">No tags.{data.untaggedCount > 0 && ' Its untagged manifests are listed below.'}</p>
        ) : (
          <>
            <div className="toolbar">
              <label>
                Filter tags
                <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="part of a tag name" />
              </label>
              <label>
                Sort
                <select value={sort} onChange={(e) => setSort(e.target.value as TagSort)}>
                  <option value="newest">Newest first</option>
                  <option value="name">Name</option>
                  <option value="semver">Version, highest first</option>
                </select>
              </label>
              <Pager first={first} last={last} total={data.matching} offset={data.offset} onOffset={setOffset} what={query ? `tags matching “${query}”` : 'tags'} />
            </div>
            {selectedCount > 0 && (
              <div className="selection-bar" role="region" aria-label="Selection">
                <span>{plural(selectedCount, 'item')} selected</span>
                <button type="button" className="small danger" onClick={() => setConfirming({ kind: 'selection', tags: [...selectedTags], digests: [...selectedDigests] })}>
                  Delete selected ({selectedCount})
                </button>
                <button type="button" className="small" onClick={clearSelection}>
                  Clear selection
                </button>
              </div>
            )}
            {data.tags.length === 0 ? (
              <p className="muted">No tag matches “{query}”.</p>
            ) : (
              <ManifestTable
                rows={data.tags}
                repository={name}
                pull={data.pull}
                selected={(row) => ('tag' in row ? selectedTags.has(row.tag) : false)}
                onSelect={(rows, on) => setSelectedTags((s) => toggled(s, rows.map((r) => (r as TagView).tag), on))}
                onDelete={(row) => setConfirming({ kind: 'tag', tag: (row as TagView).tag })}
                onTag={setTagging}
              />
            )}
          </>
        )}
      </Card>
      {data.untaggedCount > 0 && (
        <Card title={`Untagged manifests (${data.untaggedCount})`}>
          {data.untaggedCount > data.untagged.length && (
            <p className="muted small">
              The newest {data.untagged.length} are listed. A garbage collection that removes untagged manifests removes them all.
            </p>
          )}
          <ManifestTable
            rows={data.untagged}
            repository={name}
            pull={data.pull}
            selected={(row) => selectedDigests.has(row.digest)}
            onSelect={(rows, on) => setSelectedDigests((s) => toggled(s, rows.map((r) => r.digest), on))}
            onDelete={(row) => setConfirming({ kind: 'manifest', digest: row.digest })}
            onTag={setTagging}
          />
        </Card>
      )}
      {recent.length > 0 && <RecentDeletions deletions={recent} onUndo={undo.undo} busy={undo.busy} />}
      {confirming && (
        <ConfirmDelete
          repository={name}
          target={confirming}
          onClose={() => setConfirming(undefined)}
          onDeleted={(record) => {
            setConfirming(undefined)
            clearSelection()
            undo.announce(record)
            if (record.kind === 'repository') navigate({ page: 'repositories' })
          }}
        />
      )}
      {tagging && <AddTag repository={name} manifest={tagging} onClose={() => setTagging(undefined)} />}
    </Page>
  )
}

function toggled(set: Set<string>, keys: string[], on: boolean): Set<string> {
  const next = new Set(set)
  for (const key of keys) {
    if (on) next.add(key)
    else next.delete(key)
  }
  return next
}

function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms)
    return () => window.clearTimeout(timer)
  }, [value, ms])
  return settled
}

function Pager({ first, last, total, offset, onOffset, what }: { first: number; last: number; total: number; offset: number; onOffset: (n: number) => void; what: string }) {
  return (
    <nav className="pager" aria-label="Pages of tags">
      <span role="status">
        {total === 0 ? `No ${what}` : `${first}–${last} of ${total} ${what}`}
      </span>
      <button type="button" className="small" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - PAGE_SIZE))}>
        Previous
      </button>
      <button type="button" className="small" disabled={last >= total} onClick={() => onOffset(offset + PAGE_SIZE)}>
        Next
      </button>
    </nav>
  )
}

function ManifestTable({
  rows,
  repository,
  pull,
  selected,
  onSelect,
  onDelete,
  onTag,
}: {
  rows: (ManifestSummary | TagView)[]
  repository: string
  pull: PullOption[]
  selected: (row: ManifestSummary | TagView) => boolean
  onSelect: (rows: (ManifestSummary | TagView)[], on: boolean) => void
  onDelete: (row: ManifestSummary) => void
  onTag: (row: ManifestSummary) => void
}) {
  const allSelected = rows.length > 0 && rows.every(selected)
  const tagged = rows.some((row) => 'tag' in row)
  return (
    <div className="table-scroll">
      <table className="manifests">
        <thead>
          <tr>
            <th className="select">
              <input type="checkbox" checked={allSelected} onChange={(e) => onSelect(rows, e.target.checked)} aria-label={`Select every ${tagged ? 'tag' : 'manifest'} on this page`} />
            </th>
            <th>{tagged ? 'Tag' : 'Manifest'}</th>
            <th>Digest</th>
            <th>Size</th>
            <th>Platforms</th>
            <th>Pushed</th>
            <ActionsHeading />
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const tag = 'tag' in row ? row.tag : null
            const manifestHref = href({ page: 'manifest', repository, digest: row.digest })
            return (
              <tr key={tag ?? row.digest} data-tag={tag ?? undefined} data-digest={row.digest}>
                <td className="select">
                  <input type="checkbox" checked={selected(row)} onChange={(e) => onSelect([row], e.target.checked)} aria-label={`Select ${tag ?? row.digest}`} />
                </td>
                <td>
                  {tag ? <a href={manifestHref}>{tag}</a> : <span className="muted">untagged</span>} {row.signed && <Badge kind="ok" title="has a signature">signed</Badge>}{' '}
                  {row.kind !== 'image' && <Badge>{row.kind}</Badge>}
                  {tag && row.tagCount > 1 && <div className="muted small">and {plural(row.tagCount - 1, 'other tag')}</div>}
                </td>
                <td>
                  <a href={manifestHref} title={row.digest} className="digest">
                    <code>{shortDigest(row.digest)}</code>
                  </a>
                </td>
                <td className="nowrap">{bytes(row.size)}</td>
                <td>{row.platforms.length ? row.platforms.join(', ') : <span className="muted">–</span>}</td>
                <td title={when(row.pushedAt)} className="nowrap">
                  {ago(row.pushedAt)}
                  {row.pushedBy && <div className="muted small">by {row.pushedBy}</div>}
                </td>
                <td className="row-actions">
                  <PullButton options={pull} repository={repository} tag={tag} digest={row.digest} />
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
    </div>
  )
}

function describeFreed(counts: GcCountsView): string {
  if (counts.bytes <= 0) return 'nothing'
  return `${bytes(counts.bytes)} (${plural(counts.manifests, 'manifest')}, ${plural(counts.blobs, 'blob')})`
}

function describeTarget(repository: string, target: DeleteTarget): string {
  switch (target.kind) {
    case 'tag':
      return `the tag ${repository}:${target.tag}`
    case 'manifest':
      return `the manifest ${shortDigest(target.digest)} and every tag that names it`
    case 'repository':
      return `the repository ${repository}, every tag and manifest in it`
    case 'selection':
      return [target.tags.length ? plural(target.tags.length, 'tag') : '', target.digests.length ? `${plural(target.digests.length, 'untagged manifest')}` : '']
        .filter(Boolean)
        .join(' and ')
        .concat(` of ${repository}`)
  }
}

export function ConfirmDelete({
  repository,
  target,
  onClose,
  onDeleted,
}: {
  repository: string
  target: DeleteTarget
  onClose: () => void
  onDeleted: (record: DeletionView) => void
}) {
  const args =
    target.kind === 'tag'
      ? { repository, tag: target.tag }
      : target.kind === 'manifest'
        ? { repository, digest: target.digest }
        : target.kind === 'selection'
          ? { repository, selection: { tags: target.tags, digests: target.digests } }
          : { repository }
  const preview = useCall('delete:preview', args, { follow: 'none' })
  const action = useAction()
  const remove = () =>
    action.run(async () => {
      const record =
        target.kind === 'tag'
          ? await call('tag:delete', { repository, tag: target.tag })
          : target.kind === 'manifest'
            ? await call('manifest:delete', { repository, digest: target.digest })
            : target.kind === 'selection'
              ? await call('selection:delete', { repository, tags: target.tags, digests: target.digests })
              : await call('repository:delete', { name: repository })
      onDeleted(record)
    })
  const untaggedMore = preview.data && preview.data.untagged.bytes > preview.data.plain.bytes
  return (
    <Dialog
      title={target.kind === 'selection' ? 'Delete the selection?' : `Delete ${target.kind}?`}
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
      <p>
        This deletes {describeTarget(repository, target)}. One Undo restores {target.kind === 'selection' ? 'all of it' : 'it'} until a garbage collection runs.
      </p>
      {preview.data ? (
        <>
          <p className="gc-estimate">
            The next garbage collection would then free <strong>{describeFreed(preview.data.plain)}</strong>.
          </p>
          {untaggedMore && (
            <p className="muted small">One that also removes untagged manifests would free {describeFreed(preview.data.untagged)}.</p>
          )}
        </>
      ) : (
        <p className="muted">{preview.error ?? 'Working out what garbage collection would free…'}</p>
      )}
      <ErrorNotice error={action.error} />
    </Dialog>
  )
}

function AddTag({ repository, manifest, onClose }: { repository: string; manifest: ManifestSummary; onClose: () => void }) {
  const [tag, setTag] = useState('')
  const [taken, setTaken] = useState<string>()
  const action = useAction()
  const save = (move = false) =>
    action.run(async () => {
      try {
        await call('tag:add', { repository, digest: manifest.digest, tag: tag.trim(), move })
        onClose()
      } catch (e) {
        const message = (e as Error).message
        // the tag exists and names another manifest: say so, and offer to move it
        if (/already names/.test(message)) setTaken(message)
        else throw e
      }
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
          {taken ? (
            <button type="button" className="danger" onClick={() => save(true)} disabled={action.busy}>
              Move tag
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => save()} disabled={action.busy || !tag.trim()}>
              Add tag
            </button>
          )}
        </>
      }
    >
      <p>
        Tag <code>{shortDigest(manifest.digest)}</code> in {repository} as:
      </p>
      <input
        aria-label="New tag"
        value={tag}
        onChange={(e) => (setTag(e.target.value), setTaken(undefined))}
        placeholder="e.g. stable"
        autoFocus
        onKeyDown={(e) => e.key === 'Enter' && !taken && save()}
      />
      {taken && (
        <div className="notice warning" role="alert">
          {taken}
        </div>
      )}
      <ErrorNotice error={action.error} />
    </Dialog>
  )
}

export function RecentDeletions({ deletions, onUndo, busy, title = 'Recently deleted' }: { deletions: DeletionView[]; onUndo: (d: DeletionView) => void; busy: boolean; title?: string }) {
  return (
    <Card title={title}>
      <ul className="plain">
        {deletions.map((d) => (
          <li key={d.id}>
            {describeDeletion(d)} · {ago(d.at)}{' '}
            <button type="button" className="small" onClick={() => onUndo(d)} disabled={busy} aria-label={`Undo: ${describeDeletion(d)}`}>
              Undo
            </button>
          </li>
        ))}
      </ul>
    </Card>
  )
}
