// Overview: each endpoint with copyable commands, trust at a glance, storage, counts, recent activity.
import type { EndpointView } from '../../../server/admin/contract'
import { Card, Command, Empty, ErrorNotice, Loading, Page } from '../components'
import { bytes, plural } from '../format'
import { useCall } from '../hooks'
import { href } from '../router'
import { ActivityList } from './Activity'

const TITLES: Record<string, string> = {
  http: 'Plain HTTP',
  https: 'TLS',
  mtls: 'mTLS (client certificate)',
}

const WRITES: Record<string, string> = {
  open: 'push and pull, no login',
  basic: 'pull anonymously, push after login',
  off: 'pull only',
  'client-certificate': 'push and pull with a Berth client certificate',
}

export function OverviewPage() {
  const { data, error } = useCall('overview:get', {})
  if (!data) return <Page title="Overview">{error ? <ErrorNotice error={error} /> : <Loading what="the registry" />}</Page>
  const first = data.endpoints.find((e) => e.kind === 'https') ?? data.endpoints[0]
  return (
    <Page title="Overview">
      <ErrorNotice error={error} />
      {data.counts.repositories === 0 && (
        <Empty title="No images yet: push your first one">
          <p>Berth is running. Tag any local image with a Berth address and push it; it shows up here a moment later.</p>
          {first && first.commands.map((c) => <Command key={c.label} label={c.label} command={c.command} />)}
          {data.trust.installed < data.trust.total && first?.kind !== 'http' && (
            <p>
              Docker and podman need to trust Berth's CA for the TLS endpoints: <a href={href({ page: 'trust' })}>install trust</a> first, or use the
              plain-HTTP endpoint.
            </p>
          )}
        </Empty>
      )}
      <div className="grid endpoints">
        {data.endpoints.map((endpoint) => (
          <EndpointCard key={endpoint.kind} endpoint={endpoint} />
        ))}
        {data.endpoints.length === 0 && <Card title="No registry listener">Every listener is off. Turn one on in Settings.</Card>}
      </div>
      <div className="grid stats">
        <Card title="Trust">
          <p className="big">
            {data.trust.installed} / {data.trust.total}
          </p>
          <p className="muted">client × endpoint pairs trust Berth</p>
          {data.trust.attention.length > 0 ? (
            <p>
              Not yet: {data.trust.attention.join(', ')}. <a href={href({ page: 'trust' })}>Install trust</a>
            </p>
          ) : (
            <p className="ok">Every client on this machine trusts Berth.</p>
          )}
        </Card>
        <Card title="Storage">
          <p className="big">{bytes(data.storage.stored)}</p>
          <p className="muted">on disk · {bytes(data.storage.savedByDedupe)} saved by sharing layers</p>
          <p className="muted">{data.storage.free === null ? '' : `${bytes(data.storage.free)} free on this disk`}</p>
        </Card>
        <Card title="Contents">
          <ul className="counts">
            <li>
              <a href={href({ page: 'repositories' })}>{plural(data.counts.repositories, 'repository')}</a>
            </li>
            <li>{plural(data.counts.tags, 'tag')}</li>
            <li>{plural(data.counts.manifests, 'manifest')}</li>
            <li>{plural(data.counts.blobs, 'blob')}</li>
          </ul>
        </Card>
      </div>
      <Card title="Recent activity">
        <ActivityList events={data.recent} compact />
        <a href={href({ page: 'activity' })}>All activity</a>
      </Card>
      <p className="muted small-print">
        Berth {data.version} · data in <code>{data.dataDir}</code>
      </p>
    </Page>
  )
}

function EndpointCard({ endpoint }: { endpoint: EndpointView }) {
  return (
    <Card className="endpoint" title={TITLES[endpoint.kind] ?? endpoint.kind}>
      <p>
        <span className="status-dot running" aria-hidden="true" /> Running on <strong>{endpoint.address}</strong>
      </p>
      <p className="muted">{WRITES[endpoint.writes]}</p>
      {endpoint.commands.map((c) => (
        <Command key={c.label} label={c.label} command={c.command} />
      ))}
    </Card>
  )
}
