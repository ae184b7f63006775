// Repositories: filter, and sort by name, last push or size.
import { useMemo, useState } from 'react'
import type { RepositorySummary } from '../../../server/admin/contract'
import { Empty, ErrorNotice, Loading, Page } from '../components'
import { ago, bytes } from '../format'
import { useCall } from '../hooks'
import { href } from '../router'

type SortKey = 'name' | 'lastPush' | 'size'

const SORTS: Record<SortKey, (a: RepositorySummary, b: RepositorySummary) => number> = {
  name: (a, b) => a.name.localeCompare(b.name),
  lastPush: (a, b) => (b.lastPush ?? 0) - (a.lastPush ?? 0),
  size: (a, b) => b.uniqueBytes + b.sharedBytes - (a.uniqueBytes + a.sharedBytes),
}

export function RepositoriesPage() {
  const { data, error } = useCall('repositories:list', {})
  const [filter, setFilter] = useState('')
  const [sort, setSort] = useState<SortKey>('name')
  const shown = useMemo(
    () => (data ?? []).filter((r) => r.name.toLowerCase().includes(filter.trim().toLowerCase())).sort(SORTS[sort]),
    [data, filter, sort],
  )
  return (
    <Page title="Repositories">
      <ErrorNotice error={error} />
      {!data && !error && <Loading what="repositories" />}
      {data && data.length === 0 && (
        <Empty title="No repositories yet">
          <p>
            Push an image to any Berth endpoint (see <a href={href({ page: 'overview' })}>Overview</a> for the commands) and it appears here.
          </p>
        </Empty>
      )}
      {data && data.length > 0 && (
        <>
          <div className="toolbar">
            <label>
              Filter
              <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="name contains…" />
            </label>
            <label>
              Sort by
              <select value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
                <option value="name">Name</option>
                <option value="lastPush">Last push</option>
                <option value="size">Size</option>
              </select>
            </label>
          </div>
          <table>
            <thead>
              <tr>
                <th>Repository</th>
                <th>Tags</th>
                <th>Manifests</th>
                <th>Last push</th>
                <th title="bytes only this repository holds">Unique</th>
                <th title="bytes shared with other repositories">Shared</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.name}>
                  <td>
                    <a href={href({ page: 'repository', name: r.name })}>{r.name}</a>
                  </td>
                  <td>{r.tags}</td>
                  <td>{r.manifests}</td>
                  <td>{ago(r.lastPush)}</td>
                  <td>{bytes(r.uniqueBytes)}</td>
                  <td>{bytes(r.sharedBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length === 0 && <p className="muted">No repository matches “{filter}”.</p>}
        </>
      )}
    </Page>
  )
}
