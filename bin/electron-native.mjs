// The desktop app runs on Electron's own Node, whose native-module ABI differs from the system
// Node's that the CLI and tests use. Instead of rebuilding node_modules/better-sqlite3 in place
// (which would break the CLI), a second copy is built for Electron into out/native/ and handed
// to better-sqlite3 as its nativeBinding (BERTH_SQLITE_BINDING).
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))

/** The path of better_sqlite3.node built for this Electron version, building it when missing. */
export function electronSqliteBinding(electronVersion) {
  const target = join(root, 'out', 'native', `electron-${electronVersion}-${process.platform}-${process.arch}`, 'better_sqlite3.node')
  if (existsSync(target)) return target
  const source = dirname(require.resolve('better-sqlite3/package.json'))
  const work = mkdtempSync(join(tmpdir(), 'berth-native-'))
  try {
    for (const entry of ['package.json', 'binding.gyp', 'src', 'deps']) cpSync(join(source, entry), join(work, entry), { recursive: true })
    process.stderr.write(`berth: fetching better-sqlite3 for Electron ${electronVersion}…\n`)
    try {
      // a prebuilt binary for Electron when one is published
      execFileSync(process.execPath, [require.resolve('prebuild-install/bin.js'), '--runtime', 'electron', '--target', electronVersion], { cwd: work, stdio: 'inherit' })
    } catch {
      process.stderr.write('berth: no prebuilt binary; compiling against Electron headers\n')
      execFileSync('npx', ['--yes', 'node-gyp', 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers'], { cwd: work, stdio: 'inherit' })
    }
    mkdirSync(dirname(target), { recursive: true })
    cpSync(join(work, 'build', 'Release', 'better_sqlite3.node'), target)
    return target
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
