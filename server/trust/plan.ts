// What a trust install or uninstall does, as data: files to write or remove and commands to
// run. A plan can be printed (--dry-run, "show me the commands") or applied; writes that need
// root go through one elevation helper that shows the plan first.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { access, constants, mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const exec = promisify(execFile)

export interface FileWrite {
  path: string
  content: string
  mode: number
}

export interface TrustPlan {
  writes: FileWrite[]
  /** files to delete; their folders are removed too when left empty */
  removes: string[]
  commands: string[][]
  /** commands that apply to another system's root (--root) and are listed, not run */
  skippedCommands: string[][]
}

export function emptyPlan(): TrustPlan {
  return { writes: [], removes: [], commands: [], skippedCommands: [] }
}

export function mergePlans(plans: TrustPlan[]): TrustPlan {
  return {
    writes: plans.flatMap((p) => p.writes),
    removes: plans.flatMap((p) => p.removes),
    commands: dedupe(plans.flatMap((p) => p.commands)),
    skippedCommands: dedupe(plans.flatMap((p) => p.skippedCommands)),
  }
}

function dedupe(commands: string[][]): string[][] {
  const seen = new Set<string>()
  return commands.filter((c) => !seen.has(c.join('\0')) && seen.add(c.join('\0')))
}

export function describePlan(plan: TrustPlan): string[] {
  return [
    ...plan.writes.map((w) => `write ${w.path} (mode ${w.mode.toString(8)})`),
    ...plan.removes.map((path) => `remove ${path}`),
    ...plan.commands.map((c) => `run ${shellQuote(c)}`),
    ...plan.skippedCommands.map((c) => `skip ${shellQuote(c)} (it belongs to the system under --root; run it there)`),
  ]
}

export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

/** Applies a plan: directly when this process may write every path, else through elevation. */
export async function applyPlan(plan: TrustPlan, options: { log?: (line: string) => void } = {}): Promise<void> {
  if (plan.writes.length + plan.removes.length + plan.commands.length === 0) return
  if (await canApplyDirectly(plan)) {
    for (const w of plan.writes) {
      await mkdir(dirname(w.path), { recursive: true, mode: 0o755 })
      const temp = `${w.path}.${randomBytes(4).toString('hex')}.tmp`
      await writeFile(temp, w.content, { mode: w.mode })
      await rename(temp, w.path)
    }
    for (const path of plan.removes) {
      await rm(path, { force: true })
      await removeIfEmpty(dirname(path))
    }
    for (const command of plan.commands) await exec(command[0], command.slice(1))
    return
  }
  await applyElevated(plan, options.log ?? ((line) => process.stderr.write(`${line}\n`)))
}

async function canApplyDirectly(plan: TrustPlan): Promise<boolean> {
  if (process.getuid?.() === 0) return true
  if (plan.commands.length > 0) return false
  for (const path of [...plan.writes.map((w) => w.path), ...plan.removes]) {
    if (!(await writableAncestor(dirname(path)))) return false
  }
  return true
}

async function writableAncestor(dir: string): Promise<boolean> {
  for (let current = dir; ; current = dirname(current)) {
    try {
      await access(current, constants.W_OK)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(current) === current) return false
    }
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  try {
    if ((await readdir(dir)).length === 0) await rmdir(dir)
  } catch {
    // not there, or not ours to remove
  }
}

/**
 * Runs the plan as root: pkexec (a desktop prompt) or sudo on Linux, an administrator prompt
 * through osascript on macOS. The exact script is printed before anything runs.
 */
async function applyElevated(plan: TrustPlan, log: (line: string) => void): Promise<void> {
  const staging = await mkdtemp(join(tmpdir(), 'berth-trust-'))
  try {
    const lines = ['set -e']
    for (const [i, w] of plan.writes.entries()) {
      const staged = join(staging, String(i))
      await writeFile(staged, w.content, { mode: 0o600 })
      lines.push(shellQuote(['install', '-D', '-m', w.mode.toString(8), staged, w.path]))
    }
    for (const path of plan.removes) {
      lines.push(shellQuote(['rm', '-f', path]), `${shellQuote(['rmdir', dirname(path)])} 2>/dev/null || true`)
    }
    for (const command of plan.commands) lines.push(shellQuote(command))
    const script = join(staging, 'apply.sh')
    await writeFile(script, `${lines.join('\n')}\n`, { mode: 0o700 })
    log('berth: these changes need administrator rights:')
    for (const line of describePlan(plan)) log(`  ${line}`)
    const runner = await elevationCommand(script)
    log(`berth: asking for them with ${runner[0]}`)
    await exec(runner[0], runner.slice(1), { timeout: 5 * 60_000 })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

async function elevationCommand(script: string): Promise<string[]> {
  if (process.platform === 'darwin') {
    return ['osascript', '-e', `do shell script ${JSON.stringify(`/bin/sh ${shellQuote([script])}`)} with administrator privileges`]
  }
  const graphical = Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY)
  if (graphical && (await onPath('pkexec'))) return ['pkexec', '/bin/sh', script]
  if (await onPath('sudo')) return ['sudo', '/bin/sh', script]
  throw new Error('these changes need root, and neither pkexec nor sudo is available; run the command as root')
}

async function onPath(tool: string): Promise<boolean> {
  try {
    await exec('sh', ['-c', `command -v ${tool}`])
    return true
  } catch {
    return false
  }
}
