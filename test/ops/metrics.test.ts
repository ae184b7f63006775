// Prometheus metrics: on the admin listener (with its token) and with --metrics ADDR on a
// loopback port of their own; requests, bytes, pull durations, what the store holds, GC runs;
// a foreign Host is refused; --metrics off collects none.
import assert from 'node:assert/strict'
import { get } from 'node:http'
import { describe, it } from 'node:test'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { pushImage } from '../helpers/http-client'

/** The value of one series, by its name and labels as Prometheus prints them. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('metrics', () => {
  it('counts requests, bytes and pulls, reads the store and GC, on a port of its own and on the admin listener', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir, ['--metrics', '127.0.0.1:0'])
    try {
      const metricsUrl = /^berth: metrics (\S+)$/m.exec(server.stdout())?.[1]
      assert.ok(metricsUrl, 'a "berth: metrics URL" line')
      const digest = await pushImage(server.http, 'app', 'v1', { layerBytes: 5000 })
      const manifest = await fetch(`${server.http}/v2/app/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })
      const layer = (JSON.parse(await manifest.text()) as { layers: { digest: string }[] }).layers[0].digest
      assert.equal((await fetch(`${server.http}/v2/app/blobs/${layer}`).then((r) => r.arrayBuffer())).byteLength, 5000)
      assert.equal((await fetch(`${server.http}/v2/app/manifests/nope`)).status, 404)
      assert.equal((await runBerth(['delete', 'app:v1', '--data-dir', dataDir])).code, 0)
      assert.equal((await runBerth(['gc', '--untagged', '--data-dir', dataDir])).code, 0)
      await pushImage(server.http, 'app', 'v2', { layerBytes: 100 })

      const scrape = await fetch(metricsUrl)
      assert.equal(scrape.status, 200)
      assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
      const text = await scrape.text()
      assert.equal(sample(text, 'berth_http_requests_total{listener="http",method="PUT",route="/v2/:name/manifests/:reference",status="201"}'), 2)
      assert.equal(sample(text, 'berth_http_requests_total{listener="http",method="GET",route="/v2/:name/manifests/:reference",status="404"}'), 1)
      assert.ok(sample(text, 'berth_http_received_bytes_total{listener="http"}')! >= 5100)
      assert.ok(sample(text, 'berth_http_sent_bytes_total{listener="http"}')! >= 5000)
      assert.equal(sample(text, 'berth_pull_duration_seconds_count{listener="http",kind="blob"}'), 1)
      assert.equal(sample(text, 'berth_pull_duration_seconds_count{listener="http",kind="manifest"}'), 2)
      // buckets are cumulative: the last bound and +Inf hold every pull, the sum is their seconds
      assert.equal(sample(text, 'berth_pull_duration_seconds_bucket{listener="http",kind="manifest",le="120"}'), 2)
      assert.equal(sample(text, 'berth_pull_duration_seconds_bucket{listener="http",kind="manifest",le="+Inf"}'), 2)
      const fastest = sample(text, 'berth_pull_duration_seconds_bucket{listener="http",kind="manifest",le="0.005"}')!
      assert.ok(fastest >= 0 && fastest <= 2)
      assert.ok(sample(text, 'berth_pull_duration_seconds_sum{listener="http",kind="manifest"}')! > 0)
      assert.match(text, /# TYPE berth_pull_duration_seconds histogram/)
      assert.ok(sample(text, 'berth_upload_request_duration_seconds_count{listener="http"}')! >= 4)
      assert.equal(sample(text, 'berth_manifests'), 1)
      assert.equal(sample(text, 'berth_blobs'), 2)
      assert.equal(sample(text, 'berth_repositories'), 1)
      assert.equal(sample(text, 'berth_gc_runs_total'), 1)
      assert.ok(sample(text, 'berth_gc_freed_bytes_total')! >= 5000)
      assert.ok(digest)

      // fetch cannot set Host: a DNS-rebinding page's request, by hand
      const foreign = await new Promise<number>((resolve, reject) =>
        get(metricsUrl, { headers: { Host: 'attacker.example' } }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject),
      )
      assert.equal(foreign, 403)

      const gui = new URL(server.urls.gui)
      assert.equal((await fetch(`${gui.origin}/metrics`)).status, 401, 'the admin listener wants its token')
      const admin = await fetch(`${gui.origin}/metrics`, { headers: { Authorization: `Bearer ${gui.searchParams.get('token')}` } })
      assert.equal(admin.status, 200)
      assert.equal(sample(await admin.text(), 'berth_manifests'), 1)
    } finally {
      await server.stop()
    }
  })

  it('collects nothing with --metrics off, and refuses a metrics listener off loopback', async () => {
    const server = await startBerth(tempDir(), ['--metrics', 'off'])
    try {
      const gui = new URL(server.urls.gui)
      const answer = await fetch(`${gui.origin}/metrics`, { headers: { Authorization: `Bearer ${gui.searchParams.get('token')}` } })
      assert.equal(answer.status, 404)
      assert.match(await answer.text(), /metrics are off/)
    } finally {
      await server.stop()
    }
    const exposed = await runBerth(['serve', '--metrics', '0.0.0.0:0', '--http', '127.0.0.1:0', '--https', 'off', '--mtls', 'off', '--data-dir', tempDir()])
    assert.equal(exposed.code, 2)
    assert.match(exposed.stderr, /metrics listener serves loopback only/)
  })
})
