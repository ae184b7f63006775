// Builds the three parts of the desktop app with explicit entries:
//   electron/main.ts    → out/main/index.js      (ESM; the core is bundled, npm packages stay external)
//   electron/preload.ts → out/preload/index.cjs  (CommonJS: sandboxed preloads cannot be ES modules)
//   renderer/index.html → out/renderer/           (the React GUI, also served by headless Berth)
import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'
import { resolve } from 'node:path'

const root = import.meta.dirname

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      target: 'node20',
      rollupOptions: { input: { index: resolve(root, 'electron/main.ts') } },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(root, 'electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    // relative asset paths: the same build loads from file:// in Electron and from / when headless
    base: './',
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      minify: true,
      rollupOptions: { input: { index: resolve(root, 'renderer/index.html') } },
    },
  },
})
