// The two registries under test, each a process of its own on free loopback ports with its own
// temporary directory: Berth (headless `berth serve`) and the reference registry (CNCF
// distribution 2.8.2, Debian's docker-registry) with an equivalent config, deletes enabled.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../bin/berth.mjs', import.meta.url))

export interface Target {
  name: 'berth' | 'reference'
  /** base URL of the plain-HTTP and the TLS listener */
  http: string
  https: string
  /** the CA that signed the TLS listener's certificate */
  caPem: string
  pids: number[]
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

function stopper(children: ChildProcess[]): () => Promise<void> {
  return async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            child.once('exit', () => resolve())
            child.kill('SIGTERM')
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
          }),
      ),
    )
  }
}

/** Starts `berth serve` and resolves once it prints `berth: ready`, with the time that took. */
export async function startBerth(dataDir: string, args: string[] = []): Promise<Target & { readyMs: number }> {
  const started = performance.now()
  // BERTH_BENCH_PROFILE=DIR: each Berth writes a V8 CPU profile there when it stops (open it in
  // Chrome's DevTools or read it with bench/profile.ts)
  const profile = process.env.BERTH_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BERTH_BENCH_PROFILE] : []
  const child = spawn(process.execPath, [...profile, BIN, 'serve', '--data-dir', dataDir, '--http', '127.0.0.1:0', '--https', '127.0.0.1:0', '--mtls', 'off', '--admin', 'off', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  await new Promise<void>((resolve, reject) => {
    const read = (d: Buffer) => {
      stdout += d
      if (/^berth: ready$/m.test(stdout)) {
        // after ready, stdout (an access log, when on) is drained, not kept: the bench measures Berth
        child.stdout!.off('data', read)
        child.stdout!.resume()
        resolve()
      }
    }
    child.stdout!.on('data', read)
    child.once('exit', (code) => reject(new Error(`berth serve exited with ${code}: ${stdout}`)))
  })
  const readyMs = performance.now() - started
  const url = (kind: string) => new RegExp(`^berth: registry ${kind}\\s+(\\S+)(?:\\s.*)?$`, 'm').exec(stdout)![1]
  return {
    name: 'berth',
    http: url('http'),
    https: url('https'),
    caPem: readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8'),
    pids: [child.pid!],
    stop: stopper([child]),
    readyMs,
  }
}

/**
 * Starts two reference registries on one storage directory: plain HTTP, and TLS with a server
 * certificate from Berth's CA (`certDir` holds server.crt and server.key).
 */
export async function startReference(rootDir: string, certDir: string, caPem: string): Promise<Target> {
  const children: ChildProcess[] = []
  const urls: string[] = []
  mkdirSync(rootDir, { recursive: true })
  for (const tls of [false, true]) {
    const port = await freePort()
    const config = join(rootDir, `config-${tls ? 'tls' : 'http'}.yml`)
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(rootDir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        ...(tls ? ['  tls:', `    certificate: ${join(certDir, 'server.crt')}`, `    key: ${join(certDir, 'server.key')}`] : []),
        '',
      ].join('\n'),
    )
    const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' })
    children.push(child)
    const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`
    await waitUntilServing(url, caPem, child)
    urls.push(url)
  }
  return { name: 'reference', http: urls[0], https: urls[1], caPem, pids: children.map((c) => c.pid!), stop: stopper(children) }
}

/** Runs one of the bench's own servers (a .mjs script that prints its URL) in a process of its own. */
async function startScript(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(name, import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
  })
  return { url, child }
}

/**
 * The plain-Node ceiling (bench/baseline-server.mjs): two processes on one directory, plain HTTP
 * and TLS with the same certificate as the registries (`certDir` holds server.crt and .key).
 */
export async function startBaseline(dir: string, certDir: string): Promise<{ http: string; https: string; pids: number[]; stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true })
  const http = await startScript('./baseline-server.mjs', [dir])
  const https = await startScript('./baseline-server.mjs', [dir], { ...process.env, BASELINE_CERT: join(certDir, 'server.crt'), BASELINE_KEY: join(certDir, 'server.key') })
  return { http: http.url, https: https.url, pids: [http.child.pid!, https.child.pid!], stop: stopper([http.child, https.child]) }
}

/** The memory floor (bench/minimal-fastify.mjs): Fastify and a SQLite database, idle. */
export async function startMinimalFastify(dir: string): Promise<{ pid: number; stop(): Promise<void> }> {
  mkdirSync(dir, { recursive: true })
  const { child } = await startScript('./minimal-fastify.mjs', [dir])
  return { pid: child.pid!, stop: stopper([child]) }
}

async function waitUntilServing(url: string, caPem: string, child: ChildProcess): Promise<void> {
  const { request } = await import(url.startsWith('https') ? 'node:https' : 'node:http')
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const req = request(`${url}/v2/`, { ca: caPem }, (res: import('node:http').IncomingMessage) => {
        res.resume()
        resolve(res.statusCode === 200)
      })
      req.on('error', () => resolve(false))
      req.end()
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${url} did not start serving`)
}

/**
 * CPU seconds the processes' threads have run (the JS thread and libuv's pool, which does the
 * file work), from /proc/PID/task/TID/schedstat: nanoseconds, where /proc/PID/stat counts 10 ms
 * ticks. What a workload costs the server, far steadier than throughput on a busy machine.
 */
export function cpuSeconds(pids: number[]): number {
  let nanoseconds = 0
  for (const pid of pids) {
    try {
      for (const task of readdirSync(`/proc/${pid}/task`)) nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // the process (or one of its threads) is gone
    }
  }
  return nanoseconds / 1e9
}

/** Resident memory of processes, in bytes (Linux /proc). */
export function residentBytes(pids: number[]): number {
  let total = 0
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      total += Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) * 1024
    } catch {
      // the process is gone
    }
  }
  return total
}

/** Samples resident memory every 25 ms while `work` runs; returns its result and the peak. */
export async function withPeakMemory<T>(pids: number[], work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = residentBytes(pids)
  const timer = setInterval(() => (peak = Math.max(peak, residentBytes(pids))), 25)
  try {
    const result = await work()
    peak = Math.max(peak, residentBytes(pids))
    return { result, peak }
  } finally {
    clearInterval(timer)
  }
}
