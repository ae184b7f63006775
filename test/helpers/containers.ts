// Real container clients (skopeo, podman, buildah) for end-to-end tests.
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { atExit } from './cleanup'
import { promisify } from 'node:util'

const exec = promisify(execFile)

/** The reason a test must skip, or undefined when every tool is on PATH. */
export async function missingTools(...tools: string[]): Promise<string | undefined> {
  for (const tool of tools) {
    try {
      await exec('sh', ['-c', `command -v ${tool}`])
    } catch {
      return `${tool} is not installed (CI installs it with apt-get)`
    }
  }
  return undefined
}

/** Runs a command; throws with its stderr when it fails. */
export async function run(command: string, args: string[], options: { timeout?: number } = {}): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { maxBuffer: 64 << 20, timeout: options.timeout ?? 300_000 })
    return stdout
  } catch (error) {
    const e = error as { stderr?: string; message: string }
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr || e.message}`)
  }
}

/** Like run(), but returns the exit status and output instead of throwing. */
export async function attempt(command: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { maxBuffer: 64 << 20, timeout: 300_000 })
    return { ok: true, output: stdout + stderr }
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` }
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/**
 * Builds an image from scratch with buildah holding one file of random bytes, and removes it
 * from local storage when the test file ends. Returns its local name.
 */
export async function buildImage(workDir: string, options: { bytes?: number; arch?: string } = {}): Promise<string> {
  const name = `localhost/berth-test/${uniqueName('img')}:latest`
  const payload = join(workDir, uniqueName('payload'))
  writeFileSync(payload, randomBytes(options.bytes ?? 100_000))
  const container = (await run('buildah', ['from', ...(options.arch ? ['--arch', options.arch] : []), 'scratch'])).trim()
  try {
    await run('buildah', ['copy', container, payload, '/payload.bin'])
    await run('buildah', ['config', '--label', 'org.example.test=berth', '--entrypoint', '["/payload.bin"]', container])
    await run('buildah', ['commit', '-q', container, name])
  } finally {
    await run('buildah', ['rm', container]).catch(() => {})
  }
  atExit(() => execFileSync('buildah', ['rmi', '-f', name], { stdio: 'ignore' }))
  return name
}

/** Builds a two-platform manifest list (amd64 + arm64) in local storage. */
export async function buildMultiArch(workDir: string): Promise<string> {
  const list = `localhost/berth-test/${uniqueName('list')}:latest`
  await run('buildah', ['manifest', 'create', list])
  atExit(() => execFileSync('buildah', ['manifest', 'rm', list], { stdio: 'ignore' }))
  for (const arch of ['amd64', 'arm64']) {
    const image = await buildImage(workDir, { arch, bytes: 50_000 })
    await run('buildah', ['manifest', 'add', '--arch', arch, list, `containers-storage:${image}`])
  }
  return list
}

/** The manifest digest an OCI layout's index.json records for `ref`. */
export function layoutDigest(layoutDir: string, ref: string): string {
  const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[]
  }
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref)
  if (!entry) throw new Error(`no ${ref} in ${layoutDir}`)
  return entry.digest
}
