// `npm run bench`: Berth against the reference registry (CNCF distribution 2.8.2), side by side
// in one run, alternating which goes first, several rounds; medians and Berth/reference ratios.
//   --quick   smaller sizes, for CI (a regression check without timing assertions)
// Results: bench/results/registry.md and .json; the last line sums up the ratios.
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { fsyncWriteCeiling, loopbackCeiling, sha256Ceiling } from './ceilings'
import { median, writeResults } from './report'
import { residentBytes, startBaseline, startBerth, startMinimalFastify, startReference, withPeakMemory, type Target } from './servers'
import { tokenOverhead } from './tokens'
import { operationsOverhead, perRequestCost, requestsPerRound, VARIANTS, type Variant } from './operations'
import { client, curlGet, curlPull, curlPushChunked, curlPutBaseline, curlPushMonolithic, curlVerify, latency, smallObjects, type Client } from './workloads'

const MiB = 1 << 20
const quick = process.argv.includes('--quick')
const sizes = quick
  ? { big: 64 * MiB, chunk: 8 * MiB, small: 300, layer: 4 * MiB, rounds: 2, tags: 1000 }
  : { big: 1024 * MiB, chunk: 64 * MiB, small: 2000, layer: 100 * MiB, rounds: 3, tags: 10000 }
const SMALL_BLOB = 4096
/** how long the servers rest before their idle memory is read */
const IDLE_WAIT_MS = 12_000
const IN_FLIGHT = 8

const log = (line: string) => process.stderr.write(`bench: ${line}\n`)

function requireTools(...tools: string[]): void {
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' })
    } catch {
      console.error(`bench: ${tool} is not installed (Debian: apt-get install skopeo docker-registry openssl)`)
      process.exit(2)
    }
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer)
  return `sha256:${hash.digest('hex')}`
}

/** A big file of random bytes; each variant changes its first bytes, so every push is new content. */
function makeBigFile(path: string, size: number): void {
  const fd = openSync(path, 'w')
  try {
    for (let written = 0; written < size; written += 4 * MiB) writeSync(fd, randomBytes(Math.min(4 * MiB, size - written)))
  } finally {
    closeSync(fd)
  }
}

async function variant(path: string): Promise<string> {
  const fd = openSync(path, 'r+')
  try {
    writeSync(fd, randomBytes(32), 0, 32, 0)
  } finally {
    closeSync(fd)
  }
  return sha256File(path)
}

/** An OCI layout with `layers` fresh random gzipped layers, for skopeo. */
function makeLayout(dir: string, layers: number, layerSize: number): void {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true })
  const put = (data: Buffer) => {
    const hex = createHash('sha256').update(data).digest('hex')
    writeFileSync(join(dir, 'blobs', 'sha256', hex), data)
    return { digest: `sha256:${hex}`, size: data.length }
  }
  const layerDescriptors = Array.from({ length: layers }, () => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(gzipSync(randomBytes(layerSize), { level: 1 })) }))
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })))
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: layerDescriptors }))
  const m = put(manifest)
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }))
}

type Samples = Record<string, Record<string, number[]>>

function add(samples: Samples, figure: string, target: string, value: number): void {
  ;((samples[figure] ??= {})[target] ??= []).push(value)
}

/** Pushes a store of `repositories` one-tag repositories and `tags` tags in one repository. */
async function grow(c: Client, prefix: string, repositories: number, tags: number): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }))
  const layer = randomBytes(1024)
  const digest = (d: Buffer) => `sha256:${createHash('sha256').update(d).digest('hex')}`
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(layer), size: layer.length }] }))
  const pushBlob = async (repository: string, data: Buffer) => {
    const start = await c.request('POST', `/v2/${repository}/blobs/uploads/?mount=${digest(data)}&from=${prefix}/tags`, { headers: { 'Content-Length': 0 } })
    start.resume()
    if (start.statusCode === 201) return
    const location = new URL(start.headers.location!, c.base)
    location.searchParams.set('digest', digest(data))
    const put = await c.request('PUT', `${location.pathname}${location.search}`, { headers: { 'Content-Length': data.length, 'Content-Type': 'application/octet-stream' }, body: data })
    put.resume()
    if (put.statusCode !== 201) throw new Error(`blob push to ${repository}: ${put.statusCode}`)
  }
  const pushTag = async (repository: string, tag: string) => {
    const response = await c.request('PUT', `/v2/${repository}/manifests/${tag}`, { headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', 'Content-Length': manifest.length }, body: manifest })
    response.resume()
    if (response.statusCode !== 201) throw new Error(`manifest push to ${repository}: ${response.statusCode}`)
  }
  const parallel = async (count: number, task: (i: number) => Promise<void>) => {
    let next = 0
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < count) await task(next++)
    }))
  }
  await pushBlob(`${prefix}/tags`, config)
  await pushBlob(`${prefix}/tags`, layer)
  await parallel(tags, (i) => pushTag(`${prefix}/tags`, `t${String(i).padStart(5, '0')}`))
  await parallel(repositories, async (i) => {
    const repository = `${prefix}/r${String(i).padStart(5, '0')}`
    await pushBlob(repository, config)
    await pushBlob(repository, layer)
    await pushTag(repository, 'v1')
  })
}

async function main(): Promise<void> {
  requireTools('docker-registry', 'skopeo', 'openssl', 'curl')
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-'))
  const samples: Samples = {}
  const single: Record<string, Record<string, number>> = {}
  let berth: (Target & { readyMs: number }) | undefined
  let reference: Target | undefined
  let baseline: Awaited<ReturnType<typeof startBaseline>> | undefined
  try {
    log(`${quick ? 'quick' : 'full'} run in ${work}`)
    log('machine ceilings')
    const ceilings = { sha256: sha256Ceiling(), fsyncWrite: fsyncWriteCeiling(work, sizes.big), loopback: await loopbackCeiling(sizes.big * 2) }

    berth = await startBerth(join(work, 'berth'))
    reference = await startReference(join(work, 'reference'), join(work, 'berth', 'pki'), berth.caPem)
    baseline = await startBaseline(join(work, 'baseline'), join(work, 'berth', 'pki'))
    const targets: Target[] = [berth, reference]
    // each registry's own process serving plain HTTP: what its memory figures are about
    const memoryPids = (t: Target) => [t.pids[0]]
    // idle means idle: V8 gives back what start-up used once it has been quiet for about 8 s
    const floor = await startMinimalFastify(join(work, 'floor'))
    await new Promise((resolve) => setTimeout(resolve, IDLE_WAIT_MS))
    for (const t of targets) (single.idleRss ??= {})[t.name] = residentBytes(memoryPids(t))
    single.idleRss.floor = residentBytes([floor.pid])
    await floor.stop()

    const caFile = join(work, 'ca.crt')
    writeFileSync(caFile, berth.caPem)
    const big = join(work, 'big.bin')
    log(`big blob: ${sizes.big / MiB} MiB`)
    makeBigFile(big, sizes.big)
    // the plain-Node ceiling: the same bytes through the least code that keeps the crash contract
    const baselineRound = async (round: number) => {
      for (const transport of ['http', 'https'] as const) {
        const url = `${baseline![transport]}/blob/${transport}-r${round}`
        const digest = await sha256File(big)
        const started = performance.now()
        curlPutBaseline(url, caFile, big, digest)
        add(samples, `push monolithic ${transport}`, 'baseline', sizes.big / MiB / ((performance.now() - started) / 1000))
        const pulled = performance.now()
        if (curlGet(url, caFile) !== sizes.big) throw new Error('the baseline sent a short body')
        add(samples, `pull ${transport}`, 'baseline', sizes.big / MiB / ((performance.now() - pulled) / 1000))
      }
    }
    for (let round = 0; round < sizes.rounds; round++) {
      const order = round % 2 ? [...targets].reverse() : targets
      if (round % 2) await baselineRound(round)
      for (const t of order) {
        for (const transport of ['http', 'https'] as const) {
          const c = client(t[transport], t.caPem, 1)
          const repository = `big/${transport}-r${round}`
          for (const mode of ['monolithic', 'chunked'] as const) {
            const digest = await variant(big)
            const push = async () =>
              mode === 'monolithic' ? curlPushMonolithic(c, caFile, repository, big, digest) : curlPushChunked(c, caFile, repository, big, sizes.big, digest, sizes.chunk)
            const started = performance.now()
            const { peak } = await withPeakMemory(memoryPids(t), push)
            add(samples, `push ${mode} ${transport}`, t.name, sizes.big / MiB / ((performance.now() - started) / 1000))
            if (transport === 'http') add(samples, 'peak RSS during big push', t.name, peak)
            if (mode === 'monolithic') {
              const pulled = performance.now()
              const bytes = curlPull(c, caFile, repository, digest)
              if (bytes !== sizes.big) throw new Error(`pulled ${bytes} bytes of ${sizes.big}`)
              add(samples, `pull ${transport}`, t.name, sizes.big / MiB / ((performance.now() - pulled) / 1000))
              if (round === 0) curlVerify(c, caFile, repository, digest)
            }
          }
          c.close()
          log(`round ${round + 1}: ${t.name} ${transport} done`)
        }
      }
      if (!(round % 2)) await baselineRound(round)
      log(`round ${round + 1}: baseline done`)
    }
    await baseline.stop()
    baseline = undefined
    rmSync(big, { force: true })

    log(`small objects: ${sizes.small} × ${SMALL_BLOB} B, ${IN_FLIGHT} in flight`)
    for (let round = 0; round < sizes.rounds; round++) {
      const order = round % 2 ? [...targets].reverse() : targets
      for (const t of order) {
        const c = client(t.http, t.caPem, IN_FLIGHT)
        const { result, peak } = await withPeakMemory(memoryPids(t), () => smallObjects(c, `small/r${round}`, sizes.small, SMALL_BLOB, IN_FLIGHT))
        c.close()
        add(samples, 'small blob push (ops/s)', t.name, result.blobPush)
        add(samples, 'small manifest push (ops/s)', t.name, result.manifestPush)
        add(samples, 'small manifest pull (ops/s)', t.name, result.manifestPull)
        add(samples, 'small blob pull (ops/s)', t.name, result.blobPull)
        add(samples, 'peak RSS during small objects', t.name, peak)
      }
    }

    log(`skopeo copy: 5 layers × ${sizes.layer / MiB} MiB`)
    const layout = join(work, 'layout')
    for (let round = 0; round < sizes.rounds; round++) {
      makeLayout(layout, 5, sizes.layer)
      const order = round % 2 ? [...targets].reverse() : targets
      for (const t of order) {
        const started = performance.now()
        execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${new URL(t.http).host}/skopeo/r${round}:v1`], { stdio: ['ignore', 'ignore', 'inherit'] })
        add(samples, 'skopeo copy 5 layers (s)', t.name, (performance.now() - started) / 1000)
      }
    }

    log(`listing latency and startup: 100 then ${sizes.tags} tags and repositories`)
    for (const [label, count] of [['100', 100], [String(sizes.tags), sizes.tags]] as const) {
      for (const t of targets) {
        const c = client(t.http, t.caPem, 16)
        await grow(c, `list${count}`, count, count)
        ;(single[`_catalog?n=100 at ${label} repositories (ms)`] ??= {})[t.name] = await latency(c, '/v2/_catalog?n=100', 30)
        ;(single[`tags/list?n=100 at ${label} tags (ms)`] ??= {})[t.name] = await latency(c, `/v2/list${count}/tags/tags/list?n=100`, 30)
        c.close()
      }
    }
    log(`token protocol: small-object pulls over TLS with Bearer tokens vs an open listener, ${sizes.rounds} rounds`)
    const overheads = []
    for (let round = 0; round < sizes.rounds; round++) overheads.push(await tokenOverhead(sizes.small, SMALL_BLOB, IN_FLIGHT, round))
    tokens = {
      manifestPull: { open: median(overheads.map((o) => o.open.manifestPull)), token: median(overheads.map((o) => o.token.manifestPull)) },
      blobPull: { open: median(overheads.map((o) => o.open.blobPull)), token: median(overheads.map((o) => o.token.blobPull)) },
    }

    // a few per cent is the figure sought, and single rounds here differ by ±15 %: many short
    // rounds on servers side by side, CPU summed over them, throughput ratios taken round by round
    const opsRoundCount = quick ? 6 : 24
    log(`operations at their defaults (metrics, rate limit auto) vs off, a second server with them off as the control, and with the JSON access log: ${opsRoundCount} rounds of ${OPS_OBJECTS} objects`)
    const opsRounds = await operationsOverhead(OPS_OBJECTS, SMALL_BLOB, IN_FLIGHT, opsRoundCount)
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
    operations = Object.fromEntries(
      (Object.keys(VARIANTS) as Variant[]).map((variant) => [
        variant,
        Object.fromEntries(OPS.map((op) => [op, median(opsRounds.map((r) => r[variant][op]))])) as Record<(typeof OPS)[number], number>,
      ]),
    ) as OperationFigures
    operationRatios = Object.fromEntries(
      (['control', 'defaults', 'access log'] as const).map((variant) => [
        variant,
        {
          // rounds are short (250 manifest pulls take 20 ms): the ratio of total times, not of rates
          ...Object.fromEntries(OPS.map((op) => [op, sum(opsRounds.map((r) => 1 / r.bare[op])) / sum(opsRounds.map((r) => 1 / r[variant][op]))])),
          cpu: sum(opsRounds.map((r) => r[variant].cpu)) / sum(opsRounds.map((r) => r.bare.cpu)),
        },
      ]),
    ) as OperationRatios

    perRequest = {
      ...(await perRequestCost()),
      serverCpu: sum(opsRounds.map((r) => r.bare.cpu)) / (opsRounds.length * requestsPerRound(OPS_OBJECTS)),
    }

    await berth.stop()
    const restarted = await startBerth(join(work, 'berth'))
    single.startup = { berth: restarted.readyMs }
    await restarted.stop()
    berth = undefined

    report(samples, single, ceilings, tokens)
  } finally {
    await berth?.stop()
    await reference?.stop()
    await baseline?.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

const COLUMNS = ['figure (median)', 'Berth', 'reference 2.8.2', 'Berth vs reference', 'plain-Node baseline (Berth at)']
const padded = (row: string[]) => [...row, ...Array(COLUMNS.length - row.length).fill('')]

const HIGHER_IS_BETTER = (figure: string) => !/RSS|\(s\)|\(ms\)/.test(figure)

type TokenFigures = Record<'manifestPull' | 'blobPull', { open: number; token: number }>
let tokens: TokenFigures | undefined
const OPS = ['blobPush', 'manifestPush', 'manifestPull', 'blobPull'] as const
type OperationFigures = Record<Variant, Record<(typeof OPS)[number], number>>
let operations: OperationFigures | undefined
/** µs per call of the defaults' per-request code, and the server CPU (s) a request costs with them off */
let perRequest: (Awaited<ReturnType<typeof perRequestCost>> & { serverCpu: number }) | undefined
type OperationRatios = Record<'control' | 'defaults' | 'access log', Record<(typeof OPS)[number] | 'cpu', number>>
/** objects per round of the operations bench: short rounds, many of them */
const OPS_OBJECTS = 250
let operationRatios: OperationRatios | undefined

function report(samples: Samples, single: Record<string, Record<string, number>>, ceilings: { sha256: number; fsyncWrite: number; loopback: number }, tokenFigures?: TokenFigures): void {
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`
  const rows: string[][] = []
  const ratios: string[] = []
  const format = (figure: string, value: number) => (/RSS/.test(figure) ? mib(value) : value >= 100 ? value.toFixed(0) : value.toFixed(2))
  const unit = (figure: string) => (/^(push|pull) /.test(figure) ? `${figure} (MiB/s)` : figure)
  for (const [figure, byTarget] of Object.entries(samples)) {
    const b = median(byTarget.berth)
    const r = median(byTarget.reference)
    const ratio = HIGHER_IS_BETTER(figure) ? b / r : r / b
    const ceiling = byTarget.baseline ? median(byTarget.baseline) : undefined
    rows.push([unit(figure), format(figure, b), format(figure, r), `${ratio.toFixed(2)}×`, ceiling ? `${format(figure, ceiling)} (Berth at ${((b / ceiling) * 100).toFixed(0)}%)` : ''])
    if (!/RSS/.test(figure)) ratios.push(`${figure} ${ratio.toFixed(2)}×${ceiling ? ` (${((b / ceiling) * 100).toFixed(0)}% of baseline)` : ''}`)
  }
  rows.push([`idle RSS, ${IDLE_WAIT_MS / 1000} s after start`, mib(single.idleRss.berth), mib(single.idleRss.reference), '', `Fastify + SQLite at rest: ${mib(single.idleRss.floor)} (Berth at ${((single.idleRss.berth / single.idleRss.floor) * 100).toFixed(0)}%)`])
  for (const [figure, byTarget] of Object.entries(single)) {
    if (figure === 'idleRss' || figure === 'startup') continue
    rows.push([figure, byTarget.berth.toFixed(2), byTarget.reference.toFixed(2), `${(byTarget.reference / byTarget.berth).toFixed(2)}×`])
  }
  rows.push([`berth serve start-up to ready at ${sizes.tags} tags (ms)`, single.startup.berth.toFixed(0), '', ''])
  for (const [figure, label] of [['manifestPull', 'manifest'], ['blobPull', 'blob']] as const) {
    const t = tokenFigures?.[figure]
    if (!t) continue
    rows.push([`small ${label} pull over TLS with tokens / open (ops/s)`, `${t.token.toFixed(0)} / ${t.open.toFixed(0)}`, '', `tokens at ${((t.token / t.open) * 100).toFixed(0)}% (goal ≥ 90%)`])
    ratios.push(`${label} pulls with tokens ${((t.token / t.open) * 100).toFixed(0)}% of open`)
  }
  if (operations && operationRatios) {
    // throughput shares and CPU are over all rounds (each round's servers ran side by side); the control (a second server with everything off)
    // shows how far two identical servers differ on this machine
    const percent = (ratio: number) => `${(ratio * 100).toFixed(0)}%`
    for (const op of OPS) {
      const { bare, defaults, control } = operations
      const logged = operations['access log']
      rows.push([
        `small ${op.replace(/([A-Z])/g, ' $1').toLowerCase()}: defaults / off / control / with access log (ops/s)`,
        `${defaults[op].toFixed(0)} / ${bare[op].toFixed(0)} / ${control[op].toFixed(0)} / ${logged[op].toFixed(0)}`,
        '',
        `defaults at ${percent(operationRatios.defaults[op])} (goal ≥ 95%), control at ${percent(operationRatios.control[op])}, access log at ${percent(operationRatios['access log'][op])}`,
      ])
      ratios.push(`${op} with metrics and rate limits ${percent(operationRatios.defaults[op])} of off`)
    }
    const more = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`
    rows.push([
      'server CPU for the same small-object workload vs off: defaults, control, access log',
      `${more(operationRatios.defaults.cpu)}, ${more(operationRatios.control.cpu)}, ${more(operationRatios['access log'].cpu)}`,
      '',
      `defaults cost ${more(operationRatios.defaults.cpu)} CPU (goal < 5%; the control's ${more(operationRatios.control.cpu)} is the noise)`,
    ])
    ratios.push(`CPU with metrics and rate limits ${more(operationRatios.defaults.cpu)} (control ${more(operationRatios.control.cpu)})`)
  }
  if (perRequest) {
    const serverMicros = perRequest.serverCpu * 1e6
    const added = perRequest.metrics + perRequest.rateLimitLoopback
    rows.push([
      'per request, timed alone (µs): metrics + rate limit (loopback) / rate limit (LAN client) / server CPU per small request with both off',
      `${perRequest.metrics.toFixed(3)} + ${perRequest.rateLimitLoopback.toFixed(3)} / ${perRequest.rateLimitLan.toFixed(3)} / ${serverMicros.toFixed(0)}`,
      '',
      `the defaults' code is ${((added / serverMicros) * 100).toFixed(2)}% of a request's CPU (goal < 5%)`,
    ])
  }
  const pushes = ['push monolithic http', 'push chunked http', 'push monolithic https', 'push chunked https'].map((f) => median(samples[f].berth))
  const [slowest, fastest] = [Math.min(...pushes), Math.max(...pushes)]
  const share = (ceiling: number) => `Berth pushes reach ${((slowest / ceiling) * 100).toFixed(0)}–${((fastest / ceiling) * 100).toFixed(0)}% of it`
  rows.push(['machine: single-core SHA-256 (MiB/s)', ceilings.sha256.toFixed(0), '', share(ceilings.sha256)])
  rows.push([`machine: ${sizes.big / MiB} MiB fsync'd write (MiB/s)`, ceilings.fsyncWrite.toFixed(0), '', share(ceilings.fsyncWrite)])
  rows.push(['machine: loopback TCP (MiB/s)', ceilings.loopback.toFixed(0), '', ''])
  writeResults(quick ? 'registry-quick' : 'registry', {
    title: `Registry benchmark${quick ? ' (quick)' : ''}: ${sizes.big / MiB} MiB blob, ${sizes.small} small objects, skopeo 5 × ${sizes.layer / MiB} MiB, ${sizes.rounds} rounds`,
    columns: COLUMNS,
    rows: rows.map(padded),
    raw: { samples, single, ceilings, sizes },
  })
  console.log(`| ${COLUMNS.join(' | ')} |`)
  for (const row of rows) console.log(`| ${padded(row).join(' | ')} |`)
  console.log(`summary: ${ratios.join(', ')}`)
}

await main()
