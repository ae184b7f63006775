#!/usr/bin/env node
// The berth CLI: the built bundle (out/cli/berth.js, made by `npm run build`) when it is newer
// than every source file, else the TypeScript sources through tsx's loader, so a clone works
// with no build step and an edit never runs stale code.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newestMtime } from './sources.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const bundle = join(root, 'out', 'cli', 'berth.js')

// `serve` prints a GUI URL: the GUI must exist behind it (a fresh clone has not built it yet)
if (process.argv[2] === 'serve' && !existsSync(join(root, 'out', 'renderer', 'index.html'))) {
  process.stderr.write('berth: building the GUI once (a few seconds)\n')
  const build = spawnSync(process.execPath, [join(root, 'bin', 'build.mjs'), '--quiet'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  if (build.status !== 0) process.stderr.write('berth: the GUI build failed: the GUI URL will say so; the registry works\n')
}

const fresh = existsSync(bundle) && statSync(bundle).mtimeMs > newestMtime(join(root, 'server'), join(root, 'package.json'))
if (fresh && process.env.BERTH_FROM_SOURCE !== '1') {
  await import(bundle)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../server/cli.ts')
}
