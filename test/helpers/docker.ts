// The real Docker Engine (Debian's docker.io) for tests: a private dockerd on its own data, exec
// root and socket, no network setup, stopped by PID when the test file ends. Its containerd
// socket serves `ctr --hosts-dir` tests.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { atExit } from './cleanup'
import { attempt, missingTools, run } from './containers'

export interface DockerEngine {
  /** environment for the docker CLI: DOCKER_HOST and a private DOCKER_CONFIG */
  env: NodeJS.ProcessEnv
  containerdSocket: string
  docker(args: string[], options?: { input?: string }): Promise<{ ok: boolean; output: string }>
  stop(): Promise<void>
}

/** Why Docker Engine tests must skip here, or undefined. */
export async function dockerMissing(): Promise<string | undefined> {
  const tools = await missingTools('dockerd', 'docker', 'ctr', 'skopeo', 'buildah')
  if (tools) return tools
  if (process.getuid?.() !== 0) return 'dockerd needs root'
  return undefined
}

export async function startDockerEngine(): Promise<DockerEngine> {
  // short paths: containerd's sockets live under the exec root
  const root = mkdtempSync('/tmp/bd-')
  const socket = join(root, 'docker.sock')
  const exec = join(root, 'e')
  const child: ChildProcess = spawn(
    'dockerd',
    ['--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs', '--data-root', join(root, 'd'), '--exec-root', exec, '--pidfile', join(root, 'pid'), '--host', `unix://${socket}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  child.stderr!.on('data', (d) => (log = (log + d).slice(-4000)))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
  }
  atExit(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(root, 'config') }
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`dockerd exited: ${log}`)
    if (existsSync(socket) && (await run('docker', ['--host', `unix://${socket}`, 'version', '--format', '{{.Server.Version}}']).catch(() => '')).trim()) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const docker = (args: string[], options: { input?: string } = {}) =>
    new Promise<{ ok: boolean; output: string }>((resolve) => {
      const cli = spawn('docker', args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
      let output = ''
      cli.stdout.on('data', (d) => (output += d))
      cli.stderr.on('data', (d) => (output += d))
      cli.on('close', (code) => resolve({ ok: code === 0, output }))
      cli.stdin.end(options.input ?? '')
    })
  return { env, containerdSocket: join(exec, 'containerd', 'containerd.sock'), docker, stop }
}

/** Loads a local (containers-storage) image into the engine as `name` via a docker archive. */
export async function loadIntoDocker(engine: DockerEngine, image: string, name: string, workDir: string): Promise<void> {
  const archive = join(workDir, `${name.replace(/[^\w]/g, '_')}.tar`)
  await run('skopeo', ['copy', `containers-storage:${image}`, `docker-archive:${archive}:${name}`])
  const loaded = await engine.docker(['load', '-i', archive])
  if (!loaded.ok) throw new Error(`docker load failed: ${loaded.output}`)
}

export { attempt }
