#!/usr/bin/env node
// `npm start`: the desktop app when the Electron binary and the built app are present;
// otherwise Berth runs headless (same core, same registry) and says why there is no window.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))
const builtMain = fileURLToPath(new URL('../out/main/index.js', import.meta.url))

function electronBinary() {
  try {
    // the electron package exports the binary's path, and throws when its download failed
    const path = require('electron')
    return typeof path === 'string' && existsSync(path) ? { path } : { reason: `the Electron binary is missing at ${path}` }
  } catch (error) {
    return { reason: `the Electron binary is not installed (${error.message.split('\n')[0]})` }
  }
}

const electron = electronBinary()
const args = process.argv.slice(2)
if (electron.path && existsSync(builtMain)) {
  const child = spawn(electron.path, [root, ...args], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  const reason = electron.reason ?? 'the desktop app is not built (out/main/index.js is missing)'
  process.stderr.write(`berth: no window: ${reason}; running headless. Stop with Ctrl-C.\n`)
  process.argv = [process.argv[0], process.argv[1], 'serve', ...args]
  const { register } = await import('tsx/esm/api')
  register()
  await import('../server/cli.ts')
}
