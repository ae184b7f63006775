// One manifest: media type, config, layers (and how widely each is shared), history, index
// children by platform, referrers (signatures, SBOMs, attestations), and the raw JSON.
import { useState } from 'react'
import type { HistoryView } from '../../../server/admin/contract'
import { Badge, Card, CopyButton, ErrorNotice, Loading, Page } from '../components'
import { bytes, shortDigest, when } from '../format'
import { useCall } from '../hooks'
import { PullButton } from '../pull'
import { href, navigate } from '../router'
import { useUndo } from '../undo'
import { LayerFiles } from './LayerFiles'
import { ConfirmDelete } from './Repository'

export function ManifestPage({ repository, digest }: { repository: string; digest: string }) {
  const { data, error } = useCall('manifest:get', { repository, digest })
  const [raw, setRaw] = useState(false)
  const [deleting, setDeleting] = useState(false)
  const [opened, setOpened] = useState<string>()
  const undo = useUndo()
  const title = (
    <>
      <a href={href({ page: 'repositories' })} className="crumb">
        Repositories
      </a>{' '}
      /{' '}
      <a href={href({ page: 'repository', name: repository })} className="crumb">
        {repository}
      </a>{' '}
      / <code>{shortDigest(digest)}</code>
    </>
  )
  const documentTitle = `${repository}@${shortDigest(digest)}`
  if (!data)
    return (
      <Page title={title} documentTitle={documentTitle}>
        {error ? <ErrorNotice error={error} /> : <Loading what="the manifest" />}
      </Page>
    )
  const config = data.config
  const steps = layerSteps(data.history, data.layers.length)
  return (
    <Page
      title={title}
      documentTitle={documentTitle}
      actions={
        <>
          <PullButton options={data.pull} repository={repository} tag={null} digest={data.digest} />
          <button type="button" className="danger" onClick={() => setDeleting(true)}>
            {data.tags.length ? 'Delete manifest and its tags' : 'Delete manifest'}
          </button>
        </>
      }
    >
      <ErrorNotice error={error} />
      {deleting && (
        <ConfirmDelete
          repository={repository}
          target={{ kind: 'manifest', digest: data.digest }}
          onClose={() => setDeleting(false)}
          onDeleted={(record) => {
            setDeleting(false)
            undo.announce(record)
            navigate({ page: 'repository', name: repository })
          }}
        />
      )}
      <Card title="Manifest">
        <dl className="facts">
          <dt>Digest</dt>
          <dd>
            <code>{data.digest}</code> <CopyButton text={data.digest} />
          </dd>
          <dt>Media type</dt>
          <dd>
            <code>{data.mediaType}</code> <Badge>{data.kind}</Badge> {data.signed && <Badge kind="ok">signed</Badge>}
          </dd>
          {data.artifactType && (
            <>
              <dt>Artifact type</dt>
              <dd>
                <code>{data.artifactType}</code>
              </dd>
            </>
          )}
          <dt>Tags</dt>
          <dd>
            {data.tags.length ? (
              <ul className="chips inline-list">
                {data.tags.map((tag) => (
                  <li key={tag}>
                    <a href={href({ page: 'repository', name: repository, filter: tag })}>{tag}</a>
                  </li>
                ))}
              </ul>
            ) : (
              <span className="muted">none</span>
            )}
          </dd>
          {data.parents.length > 0 && (
            <>
              <dt>Part of</dt>
              <dd>
                {data.parents.map((p) => (
                  <div key={p.digest}>
                    the index{' '}
                    <a href={href({ page: 'manifest', repository, digest: p.digest })} className="digest">
                      <code>{shortDigest(p.digest)}</code>
                    </a>
                    {p.tags.length > 0 && <span className="muted"> ({p.tags.join(', ')})</span>}
                  </div>
                ))}
              </dd>
            </>
          )}
          <dt>Size</dt>
          <dd>{bytes(data.size)} with everything it references</dd>
          <dt>Platforms</dt>
          <dd>{data.platforms.length ? data.platforms.join(', ') : '–'}</dd>
          <dt>Pushed</dt>
          <dd>
            {when(data.pushedAt)}
            {data.pushedBy && ` by ${data.pushedBy}`}
          </dd>
          {data.subject && (
            <>
              <dt>Refers to</dt>
              <dd>
                <a href={href({ page: 'manifest', repository, digest: data.subject })}>
                  <code>{shortDigest(data.subject)}</code>
                </a>
              </dd>
            </>
          )}
        </dl>
      </Card>

      {config && (
        <Card title="Configuration">
          <dl className="facts">
            <dt>OS / architecture</dt>
            <dd>{[config.os, config.architecture, config.variant].filter(Boolean).join(' / ') || '–'}</dd>
            <dt>Created</dt>
            <dd>{when(config.created)}</dd>
            {config.author && (
              <>
                <dt>Author</dt>
                <dd>{config.author}</dd>
              </>
            )}
            <dt>Entrypoint</dt>
            <dd>{config.entrypoint ? <code>{JSON.stringify(config.entrypoint)}</code> : '–'}</dd>
            <dt>Command</dt>
            <dd>{config.cmd ? <code>{JSON.stringify(config.cmd)}</code> : '–'}</dd>
            {config.workingDir && (
              <>
                <dt>Working dir</dt>
                <dd>
                  <code>{config.workingDir}</code>
                </dd>
              </>
            )}
            {config.user && (
              <>
                <dt>User</dt>
                <dd>{config.user}</dd>
              </>
            )}
            {config.exposedPorts.length > 0 && (
              <>
                <dt>Ports</dt>
                <dd>{config.exposedPorts.join(', ')}</dd>
              </>
            )}
            <dt>Environment</dt>
            <dd>
              {config.env.length ? (
                <ul className="plain mono">
                  {config.env.map((e) => (
                    <li key={e}>{e}</li>
                  ))}
                </ul>
              ) : (
                '–'
              )}
            </dd>
            <dt>Labels</dt>
            <dd>
              {Object.keys(config.labels).length ? (
                <ul className="plain mono">
                  {Object.entries(config.labels).map(([k, v]) => (
                    <li key={k}>
                      {k}={v}
                    </li>
                  ))}
                </ul>
              ) : (
                '–'
              )}
            </dd>
          </dl>
        </Card>
      )}

      {data.layers.length > 0 && (
        <Card title={`Layers (${data.layers.length})`}>
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>#</th>
                  <th>Digest</th>
                  <th>Size</th>
                  <th>Created by</th>
                  <th>Shared with</th>
                  <th>
                    <span className="visually-hidden">Files</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.layers.map((layer, i) => (
                  <tr key={`${layer.digest}-${i}`}>
                    <td>{i + 1}</td>
                    <td title={`${layer.digest}\n${layer.mediaType}`} className="digest">
                      <code>{shortDigest(layer.digest)}</code>
                    </td>
                    <td className="nowrap">{bytes(layer.size)}</td>
                    <td>{steps[i] ? <code className="small">{steps[i]!.createdBy ?? steps[i]!.comment ?? '–'}</code> : <span className="muted">–</span>}</td>
                    <td>{layer.sharedWith === 0 ? <span className="muted">only this image</span> : `${layer.sharedWith} other image${layer.sharedWith === 1 ? '' : 's'}`}</td>
                    <td className="row-actions">
                      <button type="button" className="small" aria-expanded={opened === layer.digest} onClick={() => setOpened(opened === layer.digest ? undefined : layer.digest)}>
                        {opened === layer.digest ? 'Hide files' : 'Files'}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {opened && <LayerFiles repository={repository} digest={opened} onClose={() => setOpened(undefined)} />}
        </Card>
      )}

      {data.children.length > 0 && (
        <Card title={`Platforms (${data.children.length})`}>
          <table>
            <thead>
              <tr>
                <th>Platform</th>
                <th>Digest</th>
                <th>Image size</th>
              </tr>
            </thead>
            <tbody>
              {data.children.map((child) => (
                <tr key={child.digest}>
                  <td>{child.platform ?? <span className="muted">unspecified</span>}</td>
                  <td>
                    {child.stored ? (
                      <a href={href({ page: 'manifest', repository, digest: child.digest })}>
                        <code>{shortDigest(child.digest)}</code>
                      </a>
                    ) : (
                      <code title="not stored in this repository">{shortDigest(child.digest)}</code>
                    )}
                  </td>
                  <td title={`manifest ${bytes(child.size)}`}>{child.imageSize === null ? <span className="muted">not stored</span> : bytes(child.imageSize)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      )}

      <Card title={`Referrers (${data.referrers.length})`}>
        {data.referrers.length === 0 ? (
          <p className="muted">No signatures, SBOMs or attestations refer to this manifest.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Kind</th>
                <th>Artifact type</th>
                <th>Digest</th>
                <th>Size</th>
              </tr>
            </thead>
            <tbody>
              {data.referrers.map((r) => (
                <tr key={r.digest}>
                  <td>
                    <Badge kind={r.kind === 'signature' ? 'ok' : 'neutral'}>{r.kind}</Badge>
                  </td>
                  <td>
                    <code className="small">{r.artifactType ?? '–'}</code>
                  </td>
                  <td>
                    <a href={href({ page: 'manifest', repository, digest: r.digest })}>
                      <code>{shortDigest(r.digest)}</code>
                    </a>
                  </td>
                  <td>{bytes(r.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      {data.history.length > 0 && (
        <Card title="History">
          <ol className="history">
            {data.history.map((h, i) => (
              <li key={i}>
                <code>{h.createdBy ?? h.comment ?? '–'}</code>
                <span className="muted small">
                  {' '}
                  {when(h.created)}
                  {h.emptyLayer && ' · no layer'}
                </span>
              </li>
            ))}
          </ol>
        </Card>
      )}

      <Card title="Raw manifest">
        <button type="button" className="small" onClick={() => setRaw(!raw)} aria-expanded={raw}>
          {raw ? 'Hide JSON' : 'Show JSON'}
        </button>{' '}
        <CopyButton text={data.raw} label="Copy JSON" />
        {raw && <pre className="raw">{prettyJson(data.raw)}</pre>}
      </Card>
    </Page>
  )
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}

/** History steps that made a layer, in order: the i-th of them made the i-th layer. */
function layerSteps(history: HistoryView[], layers: number): (HistoryView | undefined)[] {
  const made = history.filter((h) => !h.emptyLayer)
  // a config whose history does not match its layers (hand-made images) is not matched at all
  return made.length === layers ? made : []
}
