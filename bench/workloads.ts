// What the benchmark does to a registry, as a client would over HTTP/1.1 with keep-alive:
// big-blob pushes (monolithic and chunked) and pulls, and many small blobs and manifests with
// several requests in flight, every pulled body digest-checked.
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

const READ_CHUNK = 4 << 20

export interface Client {
  base: string
  request(method: string, path: string, options?: { headers?: Record<string, string | number>; body?: Buffer | NodeJS.ReadableStream }): Promise<IncomingMessage>
  close(): void
}

/** A keep-alive client for one registry listener; `sockets` requests may be in flight. */
export function client(base: string, caPem: string, sockets = 8): Client {
  const tls = base.startsWith('https:')
  const agent = tls ? new HttpsAgent({ keepAlive: true, maxSockets: sockets, ca: caPem }) : new HttpAgent({ keepAlive: true, maxSockets: sockets })
  const send = tls ? httpsRequest : httpRequest
  return {
    base,
    request(method, path, options = {}) {
      return new Promise((resolve, reject) => {
        const req = send(new URL(path, base), { method, agent, headers: options.headers }, resolve)
        req.on('error', reject)
        const body = options.body
        if (body === undefined) req.end()
        else if (Buffer.isBuffer(body)) req.end(body)
        else pipeline(body, req).catch(reject)
      })
    },
    close: () => agent.destroy(),
  }
}

async function text(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function expect(response: IncomingMessage, status: number, what: string): Promise<IncomingMessage> {
  if (response.statusCode !== status) throw new Error(`${what}: ${response.statusCode} ${await text(response)}`)
  return response
}

async function startUpload(c: Client, repository: string): Promise<string> {
  const response = await expect(await c.request('POST', `/v2/${repository}/blobs/uploads/`, { headers: { 'Content-Length': 0 } }), 202, 'start upload')
  response.resume()
  return new URL(response.headers.location!, c.base).toString()
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location)
  url.searchParams.set('digest', digest)
  return `${url.pathname}${url.search}`
}

/**
 * Big blobs go through curl, not Node: on a 2-core machine a Node client competes with the
 * server for CPU and caps both registries at its own speed, which would measure the client.
 */
function curl(args: string[], caFile: string, input?: string, output?: string): string {
  const tls = args.some((a) => a.startsWith('https:'))
  // no Expect: 100-continue round trip, as Docker's and podman's Go clients do not wait for one either
  const command = ['curl', '-sS', '-H', 'Expect:', ...(tls ? ['--cacert', caFile] : []), ...args.map(shellWord)].join(' ')
  const pipeline = `${input ? `${input} | ` : ''}${command}${output ? ` | ${output}` : ''}`
  return execFileSync('bash', ['-c', `set -o pipefail; ${pipeline}`], { encoding: 'utf8', maxBuffer: 1 << 20 })
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** POST, then curl PUTs the whole file as the body. */
export async function curlPushMonolithic(c: Client, caFile: string, repository: string, file: string, digest: string): Promise<void> {
  const location = await startUpload(c, repository)
  const status = curl(['-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '-H', 'Content-Type: application/octet-stream', '-T', file, `${c.base}${withDigest(location, digest)}`], caFile)
  if (status !== '201') throw new Error(`monolithic PUT: ${status}`)
}

/** POST, curl PATCHes of `chunk` bytes cut from the file, then an empty PUT. */
export async function curlPushChunked(c: Client, caFile: string, repository: string, file: string, size: number, digest: string, chunk: number): Promise<void> {
  let location = await startUpload(c, repository)
  for (let start = 0; start < size; start += chunk) {
    const length = Math.min(chunk, size - start)
    const headers = curl(
      ['-o', '/dev/null', '-D', '-', '-X', 'PATCH', '-H', 'Content-Type: application/octet-stream', '-H', `Content-Length: ${length}`, '-H', 'Transfer-Encoding:', '-H', `Content-Range: ${start}-${start + length - 1}`, '-T', '-', `${location}`],
      caFile,
      `dd if=${shellWord(file)} iflag=skip_bytes,count_bytes skip=${start} count=${length} bs=4M status=none`,
    )
    const next = /^location:\s*(\S+)/im.exec(headers)?.[1]
    if (!/^HTTP\/[\d.]+ 202/m.test(headers) || !next) throw new Error(`PATCH: ${headers}`)
    location = new URL(next, c.base).toString()
  }
  const response = await c.request('PUT', withDigest(location, digest), { headers: { 'Content-Length': 0 } })
  ;(await expect(response, 201, 'closing PUT')).resume()
}

/** curl PUTs a file to the baseline server, which answers the digest it computed. */
export function curlPutBaseline(url: string, caFile: string, file: string, digest: string): void {
  const headers = curl(['-o', '/dev/null', '-D', '-', '-X', 'PUT', '-T', file, url], caFile)
  if (!new RegExp(`^docker-content-digest: ${digest}\\s*$`, 'im').test(headers)) throw new Error(`baseline PUT: ${headers}`)
}

/** curl GETs a URL to /dev/null; returns the bytes received. */
export function curlGet(url: string, caFile: string): number {
  return Number(curl(['-o', '/dev/null', '-w', '%{size_download}', url], caFile))
}

/** curl GETs a blob to /dev/null; returns the bytes received. */
export function curlPull(c: Client, caFile: string, repository: string, digest: string): number {
  return curlGet(`${c.base}/v2/${repository}/blobs/${digest}`, caFile)
}

/** GETs a blob through sha256sum and checks the digest (untimed: a second process hashing would slow the pull). */
export function curlVerify(c: Client, caFile: string, repository: string, digest: string): void {
  const hex = curl([`${c.base}/v2/${repository}/blobs/${digest}`], caFile, undefined, 'sha256sum').split(' ')[0]
  if (`sha256:${hex}` !== digest) throw new Error(`pulled bytes of ${digest} hash to sha256:${hex}`)
}

/** GET a blob; counts the bytes and, when asked, checks the digest. */
export async function pullBlob(c: Client, repository: string, digest: string, check: boolean, headers: Record<string, string> = {}): Promise<number> {
  const response = await expect(await c.request('GET', `/v2/${repository}/blobs/${digest}`, { headers }), 200, 'blob GET')
  let bytes = 0
  const hash = check ? createHash('sha256') : undefined
  await pipeline(
    response,
    new Writable({
      highWaterMark: READ_CHUNK,
      write(chunk: Buffer, _encoding, done) {
        bytes += chunk.length
        hash?.update(chunk)
        done()
      },
    }),
  )
  if (hash && `sha256:${hash.digest('hex')}` !== digest) throw new Error(`pulled bytes of ${digest} do not match`)
  return bytes
}

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const CONFIG = 'application/vnd.oci.image.config.v1+json'
const LAYER = 'application/vnd.oci.image.layer.v1.tar'

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

/** Runs `count` tasks with `inFlight` at a time; returns operations per second. */
async function opsPerSecond(count: number, inFlight: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await task(next++)
    }),
  )
  return count / ((performance.now() - started) / 1000)
}

export interface SmallObjectRates {
  blobPush: number
  manifestPush: number
  manifestPull: number
  blobPull: number
  /** what was pushed, for pulls measured again elsewhere (keepPulls) */
  objects?: SmallObjects
}

export interface SmallObjects {
  manifests: string[]
  digests: string[]
}

/**
 * `count` small blobs pushed (POST + PUT), then `count` one-layer manifests pushed, pulled
 * and their layers pulled, `inFlight` requests at a time; every pulled body digest-checked.
 */
export async function smallObjects(c: Client, repository: string, count: number, size: number, inFlight: number, options: { keepPulls?: boolean } = {}): Promise<SmallObjectRates> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }))
  const configDigest = sha256(config)
  const blobs = Array.from({ length: count }, () => randomBytes(size))
  const digests = blobs.map(sha256)
  const pushOne = async (data: Buffer, digest: string) => {
    const location = await startUpload(c, repository)
    const response = await c.request('PUT', withDigest(location, digest), { headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length }, body: data })
    ;(await expect(response, 201, 'blob PUT')).resume()
  }
  await pushOne(config, configDigest)
  const blobPush = await opsPerSecond(count, inFlight, (i) => pushOne(blobs[i], digests[i]))
  const manifests = digests.map((digest, i) =>
    JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: CONFIG, digest: configDigest, size: config.length }, layers: [{ mediaType: LAYER, digest, size: blobs[i].length }] }),
  )
  const manifestPush = await opsPerSecond(count, inFlight, async (i) => {
    const response = await c.request('PUT', `/v2/${repository}/manifests/t${i}`, { headers: { 'Content-Type': MANIFEST, 'Content-Length': Buffer.byteLength(manifests[i]) }, body: Buffer.from(manifests[i]) })
    ;(await expect(response, 201, 'manifest PUT')).resume()
  })
  const objects = { manifests, digests }
  const { manifestPull, blobPull } = await pullSmall(c, repository, objects, inFlight)
  return { blobPush, manifestPush, manifestPull, blobPull, ...(options.keepPulls ? { objects } : {}) }
}

/** Pulls every manifest (tags t0…), then every blob, digest-checked, with extra request headers. */
export async function pullSmall(c: Client, repository: string, objects: SmallObjects, inFlight: number, headers: Record<string, string> = {}) {
  const count = objects.manifests.length
  const manifestPull = await opsPerSecond(count, inFlight, async (i) => {
    const response = await expect(await c.request('GET', `/v2/${repository}/manifests/t${i}`, { headers: { Accept: MANIFEST, ...headers } }), 200, 'manifest GET')
    if (sha256(await text(response)) !== sha256(objects.manifests[i])) throw new Error(`manifest t${i} came back different`)
  })
  const blobPull = await opsPerSecond(count, inFlight, async (i) => {
    await pullBlob(c, repository, objects.digests[i], true, headers)
  })
  return { manifestPull, blobPull }
}

/** Median latency (ms) of GETs of `path`. */
export async function latency(c: Client, path: string, times: number): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < times; i++) {
    const started = performance.now()
    const response = await expect(await c.request('GET', path), 200, `GET ${path}`)
    await text(response)
    samples.push(performance.now() - started)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]
}
