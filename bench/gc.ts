// GC benchmark: Berth's `berth gc` against the reference registry's `garbage-collect`, on equal
// stores (the same images, the same deleted 10%), side by side in one run.
//   node --import tsx bench/gc.ts [--blobs N] [--rounds R] [--quick]
// Both stores are written straight to disk in each tool's own layout, then copied fresh for
// every round, so each round collects the same garbage.
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDigest } from '../server/store/references'
import { Store } from '../server/store/store'
import { median, writeResults } from './report'

const { values } = parseArgs({
  options: { blobs: { type: 'string' }, rounds: { type: 'string' }, quick: { type: 'boolean' } },
})
const totalBlobs = Number(values.blobs ?? (values.quick ? 10_000 : 100_000))
const rounds = Number(values.rounds ?? (values.quick ? 1 : 3))
const images = Math.floor(totalBlobs / 2) // a config and a layer each
const deleted = Math.floor(images / 10) // 10% of the blobs become garbage
const REPOSITORIES = 100

const CONFIG_TYPE = 'application/vnd.docker.container.image.v1+json'
const LAYER_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip'
const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json'

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')

interface Image {
  repository: string
  tag: string
  config: Buffer
  layer: Buffer
  manifest: string
  deleted: boolean
}

export function makeImages(): Image[] {
  return Array.from({ length: images }, (_, i) => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', image: i }))
    const layer = randomBytes(256)
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: CONFIG_TYPE, digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: LAYER_TYPE, digest: `sha256:${sha(layer)}`, size: layer.length }],
    })
    return { repository: `bench/r${i % REPOSITORIES}`, tag: `t${i}`, config, layer, manifest, deleted: i < deleted }
  })
}

export async function buildBerthStore(dir: string, all: Image[]): Promise<void> {
  const store = await Store.open(dir)
  const writeBlob = (data: Buffer) => {
    const digest = parseDigest(`sha256:${sha(data)}`)!
    mkdirSync(store.layout.blobDir(digest), { recursive: true })
    writeFileSync(store.layout.blobPath(digest), data)
    return digest
  }
  for (let start = 0; start < all.length; start += 5000) {
    const batch = all.slice(start, start + 5000)
    const digests = batch.map((image) => [writeBlob(image.config), writeBlob(image.layer)] as const)
    store.db.transaction(() => {
      batch.forEach((image, i) => {
        for (const [j, digest] of digests[i].entries()) store.blobs.record(image.repository, digest, j === 0 ? image.config.length : image.layer.length)
        store.manifests.put(image.repository, { kind: 'tag', tag: image.tag }, Buffer.from(image.manifest), MANIFEST_TYPE)
      })
    })()
  }
  // deleted through the registry API, as a client would: the manifest and its tags go
  store.db.transaction(() => {
    for (const image of all.filter((i) => i.deleted)) store.manifests.deleteManifest(image.repository, parseDigest(`sha256:${sha(image.manifest)}`)!)
  })()
  store.close()
}

/** The reference registry's filesystem layout (distribution 2.x). */
function buildReferenceStore(root: string, all: Image[]): void {
  const v2 = join(root, 'docker', 'registry', 'v2')
  const blob = (data: Buffer | string) => {
    const hex = sha(data)
    const dir = join(v2, 'blobs', 'sha256', hex.slice(0, 2), hex)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'data'), data)
    return hex
  }
  const link = (path: string, hex: string) => {
    mkdirSync(path, { recursive: true })
    writeFileSync(join(path, 'link'), `sha256:${hex}`)
  }
  for (const image of all) {
    const repo = join(v2, 'repositories', image.repository)
    for (const data of [image.config, image.layer]) link(join(repo, '_layers', 'sha256', blob(data)), sha(data))
    const manifest = blob(image.manifest)
    if (image.deleted) continue // a deleted manifest leaves its blobs and layer links behind
    link(join(repo, '_manifests', 'revisions', 'sha256', manifest), manifest)
    link(join(repo, '_manifests', 'tags', image.tag, 'current'), manifest)
    link(join(repo, '_manifests', 'tags', image.tag, 'index', 'sha256', manifest), manifest)
  }
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { seconds: number; stdout: string } {
  const start = process.hrtime.bigint()
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 1 << 30 })
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`)
  return { seconds, stdout: result.stdout }
}

function countFiles(dir: string, name?: string): number {
  const out = execFileSync('find', [dir, '-type', 'f', ...(name ? ['-name', name] : [])], { encoding: 'utf8', maxBuffer: 1 << 30 })
  return out.split('\n').filter(Boolean).length
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'berth-gc-bench-'))
  try {
    console.log(`gc bench: ${images} images (${images * 2} blobs) in ${REPOSITORIES} repositories, ${deleted} images deleted (${deleted * 2} garbage blobs), ${rounds} round(s)`)
    const all = makeImages()
    const berthSource = join(work, 'berth-source')
    const referenceSource = join(work, 'reference-source')
    let t = Date.now()
    await buildBerthStore(berthSource, all)
    console.log(`  built Berth's store in ${((Date.now() - t) / 1000).toFixed(1)} s`)
    t = Date.now()
    buildReferenceStore(referenceSource, all)
    console.log(`  built the reference store in ${((Date.now() - t) / 1000).toFixed(1)} s`)

    // each round gets its own copy; the last one uses the source itself (it is not needed after)
    const fresh = (source: string, name: string, round: number) => {
      if (round === rounds) return source
      const dir = join(work, name)
      execFileSync('cp', ['-a', source, dir])
      return dir
    }
    const berthTimes: number[] = []
    const referenceTimes: number[] = []
    let berthRemoved = 0
    let referenceRemoved = 0
    for (let round = 1; round <= rounds; round++) {
      // alternate which goes first, so neither always gets the warmer page cache
      const order = round % 2 ? ['berth', 'reference'] : ['reference', 'berth']
      for (const which of order) {
        if (which === 'berth') {
          const dir = fresh(berthSource, `berth-${round}`, round)
          const run = timed(process.execPath, ['bin/berth.mjs', 'gc', '--json', '--data-dir', dir])
          berthRemoved = JSON.parse(run.stdout).blobs
          berthTimes.push(run.seconds)
          rmSync(dir, { recursive: true, force: true })
        } else {
          const dir = fresh(referenceSource, `reference-${round}`, round)
          const config = join(work, `reference-${round}.yml`)
          writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n`)
          const before = countFiles(join(dir, 'docker', 'registry', 'v2', 'blobs'), 'data')
          const run = timed('docker-registry', ['garbage-collect', config])
          referenceRemoved = before - countFiles(join(dir, 'docker', 'registry', 'v2', 'blobs'), 'data')
          referenceTimes.push(run.seconds)
          rmSync(dir, { recursive: true, force: true })
        }
      }
      console.log(`  round ${round}: berth ${berthTimes.at(-1)!.toFixed(2)} s, reference ${referenceTimes.at(-1)!.toFixed(2)} s`)
    }

    const berth = median(berthTimes)
    const reference = median(referenceTimes)
    const ratio = reference / berth
    writeResults('gc', {
      title: `GC over ${images * 2} blobs (${deleted * 2} garbage)`,
      columns: ['figure', 'Berth', 'reference 2.8.2', 'ratio (reference/Berth)'],
      rows: [
        ['wall time of the GC command (median, s)', berth.toFixed(2), reference.toFixed(2), `${ratio.toFixed(1)}× faster`],
        ['blobs removed', String(berthRemoved), `${referenceRemoved} (incl. ${deleted} manifest blobs)`, ''],
      ],
      raw: { images, blobs: images * 2, garbageBlobs: deleted * 2, rounds, berthTimes, referenceTimes },
    })
    console.log(`gc: Berth ${berth.toFixed(2)} s vs reference ${reference.toFixed(2)} s over ${images * 2} blobs: ${ratio.toFixed(1)}× faster (goal ≥ 10×)`)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

// run as a script, not when imported
if (process.argv[1]?.endsWith('gc.ts')) await main()
