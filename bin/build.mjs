#!/usr/bin/env node
// Builds the desktop app (electron/ → out/main, out/preload) and the GUI (renderer/ → out/renderer)
// with electron.vite.config.ts. Where the electron package is not installed (its binary cannot be
// fetched, or this Node is older than it supports) electron-vite cannot read Electron's version,
// so it is taken from package.json: the build targets the same Electron either way.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
if (!process.env.ELECTRON_MAJOR_VER) {
  try {
    require.resolve('electron/package.json')
  } catch {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    const range = pkg.optionalDependencies?.electron ?? pkg.devDependencies?.electron ?? ''
    process.env.ELECTRON_MAJOR_VER = /\d+/.exec(range)?.[0] ?? ''
  }
}
const logLevel = process.argv.includes('--quiet') ? 'warn' : 'info'
const { build } = await import('electron-vite')
await build({ configFile: new URL('../electron.vite.config.ts', import.meta.url).pathname, logLevel })

// The headless CLI as one ES module (npm packages stay external): `berth` starts without a
// TypeScript loader, which saves its start-up time and the memory of the loader's thread.
const vite = await import('vite')
await vite.build({
  configFile: false,
  logLevel,
  root: new URL('..', import.meta.url).pathname,
  build: {
    ssr: 'server/cli.ts',
    outDir: 'out/cli',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    rollupOptions: { output: { entryFileNames: 'berth.js', format: 'es' } },
  },
})
