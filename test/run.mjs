// Runs every test file with Node's test runner: the spec reporter on stdout, and a counting
// reporter whose totals end the output as `tests: N passed, N failed[, N skipped]`.
// Usage: node test/run.mjs [file or folder ...]   (default: all of test/)
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const testDir = join(root, 'test')

function findTests(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : []
  return readdirSync(path)
    .sort()
    .flatMap((entry) => findTests(join(path, entry)))
}

const targets = process.argv.slice(2)
const files = (targets.length ? targets.map((t) => resolve(t)) : [testDir]).flatMap(findTests)
if (files.length === 0) {
  console.error('no test files found')
  process.exit(2)
}

// the GUI tests drive the built app: build it first (a few seconds)
const build = spawnSync(process.execPath, [join(root, 'bin', 'build.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) console.error('the build failed: GUI tests will skip or fail')

const resultsDir = join(root, 'test-results')
mkdirSync(resultsDir, { recursive: true })
const countsFile = join(resultsDir, 'counts.json')

const result = spawnSync(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${join(testDir, 'helpers', 'count-reporter.mjs')}`, `--test-reporter-destination=${countsFile}`,
    ...files.map((f) => relative(root, f)),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, BERTH_TEST: '1' } },
)

let counts = { passed: 0, failed: 1, skipped: 0 }
try {
  counts = JSON.parse(readFileSync(countsFile, 'utf8'))
} catch {
  console.error('the test runner wrote no counts')
}
const skipped = counts.skipped ? `, ${counts.skipped} skipped` : ''
console.log(`tests: ${counts.passed} passed, ${counts.failed} failed${skipped}`)
process.exit(result.status === 0 && counts.failed === 0 ? 0 : 1)
