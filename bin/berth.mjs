#!/usr/bin/env node
// The berth CLI: the built bundle (out/cli/berth.js, made by `npm run build`) when it is newer
// than every source file, else the TypeScript sources through tsx's loader, so a clone works
// with no build step and an edit never runs stale code.
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newestMtime } from './sources.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const bundle = join(root, 'out', 'cli', 'berth.js')

const fresh = existsSync(bundle) && statSync(bundle).mtimeMs > newestMtime(join(root, 'server'), join(root, 'package.json'))
if (fresh && process.env.BERTH_FROM_SOURCE !== '1') {
  await import(bundle)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../server/cli.ts')
}
