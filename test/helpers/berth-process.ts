// Runs the real CLI (`node bin/berth.mjs ...`) as a child process.
import { spawn, type ChildProcess } from 'node:child_process'
import { atExit } from './cleanup'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = fileURLToPath(new URL('../../bin/berth.mjs', import.meta.url))

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a berth command to completion. */
export function runBerth(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...options.env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

export interface BerthServer {
  child: ChildProcess
  pid: number
  dataDir: string
  /** the plain-HTTP registry's base URL */
  http: string
  /** every listener line, by kind; `gui` is the GUI URL with its token */
  urls: Record<string, string>
  stdout: () => string
  /** ms timestamp at which `berth: ready` was read */
  readyAt: number
  /** SIGTERM, then the exit code */
  stop(): Promise<number | null>
  /** SIGKILL, as a crash would */
  kill9(): Promise<void>
}

/** Starts `berth serve` on free loopback ports and waits for `berth: ready`. */
export function startBerth(
  dataDir: string,
  extraArgs: string[] = [],
  options: { env?: NodeJS.ProcessEnv; /** a command that execs the server, e.g. prlimit */ wrapper?: string[] } = {},
): Promise<BerthServer> {
  const args = ['serve', '--data-dir', dataDir, '--http', '127.0.0.1:0', '--https', '127.0.0.1:0', '--mtls', '127.0.0.1:0', ...extraArgs]
  const [command, ...commandArgs] = [...(options.wrapper ?? []), process.execPath, BIN, ...args]
  const child = spawn(command, commandArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
  let stdout = ''
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // A test that fails before stop() must not keep the test process alive: the exit hook kills it.
  child.unref()
  for (const stream of [child.stdout, child.stderr] as unknown as { unref(): void }[]) stream.unref()
  atExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`berth serve did not get ready in time:\n${stdout}\n${stderr}`)), 30_000)
    child.stderr!.on('data', (d) => (stderr += d))
    child.stdout!.on('data', (d) => {
      stdout += d
      if (!/^berth: ready$/m.test(stdout)) return
      clearTimeout(timer)
      const urls: Record<string, string> = {}
      for (const match of stdout.matchAll(/^berth: registry (\w+)\s+(\S+)(?:\s.*)?$/gm)) urls[match[1]] = match[2]
      const gui = /^berth: gui (\S+)$/m.exec(stdout)
      if (gui) urls.gui = gui[1]
      resolve({
        child,
        pid: child.pid!,
        dataDir,
        http: urls.http,
        urls,
        stdout: () => stdout,
        readyAt: Date.now(),
        async stop() {
          child.ref() // wait for the exit even though the child is unref'd
          child.kill('SIGTERM')
          return exited
        },
        async kill9() {
          child.ref()
          child.kill('SIGKILL')
          await exited
        },
      })
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`berth serve exited with ${code} before ready:\n${stdout}\n${stderr}`))
    })
  })
}

/** host:port of a listener URL, as container clients write registry references. */
export function authority(url: string): string {
  return new URL(url).host
}
