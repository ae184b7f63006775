// Soak: `berth serve` under 50 clients pushing, pulling, retagging and deleting, with an online
// GC every minute, for 30 minutes (npm run bench:soak; --minutes N --clients N to change).
// It samples resident memory, open file descriptors and the database's size, and passes when
// all three stay flat after the warm-up and no request failed. Not part of the test suite.
//
// Each client pulls only what it pushed itself, so every failed request is a real error (no
// races with other clients' deletes or with GC).
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { writeResults } from './report'
import { residentBytes, startBerth } from './servers'

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, clients: { type: 'string', default: '50' } } })
const minutes = Number(values.minutes)
const clientCount = Number(values.clients)
const BIN = fileURLToPath(new URL('../bin/berth.mjs', import.meta.url))
const SAMPLE_MS = 10_000
const GC_EVERY_MS = 60_000
const TAGS_PER_CLIENT = 5

const digest = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`

interface Sample {
  at: number
  rss: number
  fds: number
  dbBytes: number
  ops: number
  errors: number
}

const dataDir = mkdtempSync(join(tmpdir(), 'berth-soak-'))
const berth = await startBerth(dataDir, ['--mtls', 'off'])
const base = berth.http
const pid = berth.pids[0]
const counts = { ops: 0, errors: 0, pushes: 0, pulls: 0, deletes: 0, gcRuns: 0, gcBytes: 0 }
const firstErrors: string[] = []
const deadline = Date.now() + minutes * 60_000

function fail(what: string): void {
  counts.errors++
  if (firstErrors.length < 20) firstErrors.push(what)
}

async function expect(response: Response, statuses: number[], what: string): Promise<Buffer> {
  const body = Buffer.from(await response.arrayBuffer())
  counts.ops++
  if (!statuses.includes(response.status)) fail(`${what}: ${response.status} ${body.subarray(0, 200).toString()}`)
  return body
}

async function push(repository: string, tag: string): Promise<void> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') }))
  const layer = randomBytes(4096 + Math.floor(Math.random() * 60_000))
  for (const blob of [config, layer]) {
    await expect(await fetch(`${base}/v2/${repository}/blobs/uploads/?digest=${digest(blob)}`, { method: 'POST', body: blob }), [201], `push blob ${repository}`)
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(layer), size: layer.length }],
  })
  const put = await fetch(`${base}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })
  await expect(put, [201], `push manifest ${repository}:${tag}`)
  counts.pushes++
}

async function pull(repository: string, tag: string): Promise<void> {
  const manifest = await expect(await fetch(`${base}/v2/${repository}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } }), [200], `pull ${repository}:${tag}`)
  let parsed: { config: { digest: string }; layers: { digest: string }[] }
  try {
    parsed = JSON.parse(manifest.toString())
  } catch {
    return
  }
  for (const descriptor of [parsed.config, ...parsed.layers]) {
    const blob = await expect(await fetch(`${base}/v2/${repository}/blobs/${descriptor.digest}`), [200], `pull blob ${descriptor.digest}`)
    if (digest(blob) !== descriptor.digest) fail(`pulled bytes of ${descriptor.digest} have another digest`)
  }
  counts.pulls++
}

async function client(index: number): Promise<void> {
  const repository = `soak/client-${index}`
  const tags = new Set<string>()
  while (Date.now() < deadline) {
    const roll = Math.random()
    try {
      if (tags.size === 0 || roll < 0.3) {
        const tag = `t${Math.floor(Math.random() * TAGS_PER_CLIENT)}`
        await push(repository, tag)
        tags.add(tag)
      } else if (roll < 0.95) {
        await pull(repository, [...tags][Math.floor(Math.random() * tags.size)])
      } else {
        const tag = [...tags][Math.floor(Math.random() * tags.size)]
        await expect(await fetch(`${base}/v2/${repository}/manifests/${tag}`, { method: 'DELETE' }), [202], `delete ${repository}:${tag}`)
        tags.delete(tag)
        counts.deletes++
      }
    } catch (error) {
      fail(`${repository}: ${(error as Error).message}`)
    }
  }
}

function gcOnce(): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'gc', '--untagged', '--json', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('close', (code) => {
      counts.gcRuns++
      if (code !== 0) fail(`gc exited with ${code}`)
      else counts.gcBytes += (JSON.parse(out) as { bytes: number }).bytes
      resolve()
    })
  })
}

function sample(): Sample {
  let fds = 0
  try {
    fds = readdirSync(`/proc/${pid}/fd`).length
  } catch {
    fds = -1
  }
  const dbBytes = readdirSync(dataDir)
    .filter((name) => name.startsWith('berth.db'))
    .reduce((sum, name) => sum + statSync(join(dataDir, name)).size, 0)
  return { at: Date.now(), rss: residentBytes([pid]), fds, dbBytes, ops: counts.ops, errors: counts.errors }
}

const samples: Sample[] = [sample()]
const sampler = setInterval(() => {
  const s = sample()
  samples.push(s)
  const elapsed = Math.round((s.at - samples[0].at) / 1000)
  process.stdout.write(`soak: ${elapsed}s rss ${(s.rss / 2 ** 20).toFixed(0)} MiB, fds ${s.fds}, db ${(s.dbBytes / 2 ** 20).toFixed(1)} MiB, ops ${s.ops}, errors ${s.errors}\n`)
}, SAMPLE_MS)
let gcRunning = Promise.resolve()
const gcTimer = setInterval(() => (gcRunning = gcRunning.then(gcOnce)), GC_EVERY_MS)

console.log(`soak: ${clientCount} clients for ${minutes} min against berth serve (${base}), GC every ${GC_EVERY_MS / 1000} s`)
await Promise.all(Array.from({ length: clientCount }, (_, i) => client(i)))
clearInterval(sampler)
clearInterval(gcTimer)
await gcRunning
samples.push(sample())
await berth.stop()
const fsck = await new Promise<number | null>((resolve) => spawn(process.execPath, [BIN, 'fsck', '--data-dir', dataDir], { stdio: 'ignore' }).on('close', resolve))
if (fsck !== 0) fail('fsck found problems after the soak')
rmSync(dataDir, { recursive: true, force: true })

// Flat: after the first fifth (warm-up: caches, the activity table reaching its cap), the last
// fifth's peak is within 15 % (memory, descriptors) or 10 % (database) of the middle's peak.
const warm = samples.slice(Math.floor(samples.length / 5))
const middle = warm.slice(0, Math.ceil(warm.length / 2))
const last = warm.slice(Math.floor((warm.length * 3) / 4))
const peak = (list: Sample[], key: 'rss' | 'fds' | 'dbBytes') => Math.max(...list.map((s) => s[key]))
const verdicts = (
  [
    ['resident memory', 'rss', 1.15, (v: number) => `${(v / 2 ** 20).toFixed(0)} MiB`],
    ['open file descriptors', 'fds', 1.15, (v: number) => String(v)],
    ['database size', 'dbBytes', 1.1, (v: number) => `${(v / 2 ** 20).toFixed(1)} MiB`],
  ] as const
).map(([label, key, allowed, show]) => {
  const before = peak(middle, key)
  const after = peak(last, key)
  const flat = after <= before * allowed + (key === 'fds' ? 8 : 0)
  return { label, before: show(before), after: show(after), ratio: before ? after / before : 1, flat }
})
const seconds = (samples.at(-1)!.at - samples[0].at) / 1000
const rows = [
  ...verdicts.map((v) => [v.label, v.before, v.after, `${v.ratio.toFixed(2)}×`, v.flat ? 'flat' : 'GROWS']),
  ['requests', String(counts.ops), `${(counts.ops / seconds).toFixed(0)}/s`, '', ''],
  ['pushes / pulls / deletes', `${counts.pushes} / ${counts.pulls} / ${counts.deletes}`, '', '', ''],
  ['GC runs / freed', String(counts.gcRuns), `${(counts.gcBytes / 2 ** 20).toFixed(0)} MiB`, '', ''],
  ['errors', String(counts.errors), '', '', counts.errors === 0 ? 'none' : 'FAILED'],
]
writeResults('soak', {
  title: `Soak: ${clientCount} clients, ${minutes} min, GC every minute`,
  columns: ['figure', 'middle of the run (peak)', 'last quarter (peak)', 'ratio', 'verdict'],
  rows,
  raw: { counts, samples, firstErrors },
})
for (const row of rows) console.log(`soak: ${row.filter(Boolean).join('  ')}`)
for (const error of firstErrors) console.log(`soak: error: ${error}`)
process.exitCode = counts.errors === 0 && verdicts.every((v) => v.flat) ? 0 : 1
