// A layer's files as a tree with sizes, largest first (what `dive` shows), read from the blob.
import type { LayerFilesView } from '../../../server/admin/contract'
import { ErrorNotice, Loading } from '../components'
import { bytes, plural, shortDigest } from '../format'
import { useCall } from '../hooks'

interface Node {
  name: string
  size: number
  files: number
  type: LayerFilesView['entries'][number]['type']
  linkTarget?: string
  children: Map<string, Node>
}

function buildTree(entries: LayerFilesView['entries']): Node {
  const root: Node = { name: '/', size: 0, files: 0, type: 'dir', children: new Map() }
  for (const entry of entries) {
    const parts = entry.path.split('/').filter(Boolean)
    let node = root
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1
      let child = node.children.get(part)
      if (!child) {
        child = { name: part, size: 0, files: 0, type: last ? entry.type : 'dir', children: new Map() }
        node.children.set(part, child)
      }
      if (last) {
        child.type = entry.type
        if (entry.linkTarget) child.linkTarget = entry.linkTarget
      }
      node = child
    }
  }
  // sizes and file counts, bottom up
  const sum = (node: Node, sizes: Map<string, number>, path: string): void => {
    node.size = sizes.get(path) ?? 0
    node.files = node.type === 'dir' ? 0 : 1
    for (const [name, child] of node.children) {
      sum(child, sizes, path ? `${path}/${name}` : name)
      node.size += child.size
      node.files += child.files
    }
  }
  sum(root, new Map(entries.map((e) => [e.path, e.size])), '')
  return root
}

function sorted(node: Node): Node[] {
  return [...node.children.values()].sort((a, b) => b.size - a.size || a.name.localeCompare(b.name))
}

function TreeNode({ node, depth }: { node: Node; depth: number }) {
  const label = (
    <>
      <span className={node.type === 'dir' ? 'tree-dir' : 'tree-file'}>
        {node.name}
        {node.type === 'dir' ? '/' : ''}
      </span>
      {node.linkTarget && <span className="muted small"> → {node.linkTarget}</span>}
      <span className="tree-size">{bytes(node.size)}</span>
    </>
  )
  if (node.type !== 'dir' || node.children.size === 0) return <li className="tree-leaf">{label}</li>
  return (
    <li>
      <details open={depth < 1}>
        <summary>
          {label} <span className="muted small">{plural(node.files, 'file')}</span>
        </summary>
        <ul className="tree">
          {sorted(node).map((child) => (
            <TreeNode key={child.name} node={child} depth={depth + 1} />
          ))}
        </ul>
      </details>
    </li>
  )
}

export function LayerFiles({ repository, digest, onClose }: { repository: string; digest: string; onClose: () => void }) {
  const { data, error } = useCall('layer:files', { repository, digest }, { follow: 'none' })
  return (
    <section className="layer-files" aria-label={`Files in layer ${shortDigest(digest)}`}>
      <header className="layer-files-header">
        <h3>
          Files in layer <code>{shortDigest(digest)}</code>
        </h3>
        <button type="button" className="small" onClick={onClose}>
          Close
        </button>
      </header>
      {error ? (
        <ErrorNotice error={error} />
      ) : !data ? (
        <Loading what="the layer's files" />
      ) : (
        <>
          <p className="muted small">
            {plural(data.totalEntries, 'entry')}, {bytes(data.totalBytes)} unpacked
            {data.whiteouts > 0 && `, ${plural(data.whiteouts, 'whiteout')} (files this layer deletes from the ones below)`}
            {data.truncated && `; the first ${data.entries.length} entries are shown`}.
          </p>
          <ul className="tree">
            {sorted(buildTree(data.entries)).map((child) => (
              <TreeNode key={child.name} node={child} depth={0} />
            ))}
          </ul>
        </>
      )}
    </section>
  )
}
