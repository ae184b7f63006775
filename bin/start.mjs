#!/usr/bin/env node
// `npm start`: builds the app when its sources changed, then opens the desktop app when the
// Electron binary is present; otherwise Berth runs headless (same core, same registry, same
// GUI in a browser) and says why there is no window.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newestMtime } from './sources.mjs'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))
const builtMain = join(root, 'out', 'main', 'index.js')
const builtGui = join(root, 'out', 'renderer', 'index.html')

function buildIfStale() {
  const built = [builtMain, builtGui].every(existsSync) ? Math.min(statSync(builtMain).mtimeMs, statSync(builtGui).mtimeMs) : 0
  const sources = newestMtime(...['renderer', 'electron', 'server', 'electron.vite.config.ts'].map((p) => join(root, p)))
  if (built > sources) return
  const result = spawnSync(process.execPath, [join(root, 'bin', 'build.mjs'), '--quiet'], { stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

function electronBinary() {
  try {
    // the electron package exports the binary's path (downloading it on first use), and throws when it cannot
    const path = require('electron')
    return typeof path === 'string' && existsSync(path) ? { path } : { reason: `the Electron binary is missing at ${path}` }
  } catch (error) {
    return { reason: `the Electron binary is not installed (${error.message.split('\n')[0]})` }
  }
}

buildIfStale()
const electron = electronBinary()
const args = process.argv.slice(2)
if (electron.path) {
  const { electronSqliteBinding } = await import('./electron-native.mjs')
  const version = require('electron/package.json').version
  const env = { ...process.env, BERTH_SQLITE_BINDING: electronSqliteBinding(version) }
  const child = spawn(electron.path, [root, ...args], { stdio: 'inherit', env })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  process.stderr.write(`berth: no window: ${electron.reason}; running headless with the same GUI in your browser. Stop with Ctrl-C.\n`)
  process.argv = [process.argv[0], process.argv[1], 'serve', '--open', ...args]
  await import('./berth.mjs')
}
