// The TypeScript sources typecheck (tsc --noEmit), so a type error fails the suite: the node
// side (server, tests, benchmarks), the web side (renderer), and the Electron shell when
// Electron's types are installed.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')
const root = fileURLToPath(new URL('..', import.meta.url))

function electronTypes(): string | undefined {
  try {
    require.resolve('electron/package.json')
    return undefined
  } catch {
    return 'the electron package is not installed here (it needs Node 22.12+ and a download), so electron/ cannot be typechecked'
  }
}

for (const [project, skip] of [
  ['tsconfig.json', undefined],
  ['renderer/tsconfig.json', undefined],
  ['electron/tsconfig.json', electronTypes()],
] as const) {
  it(`tsc -p ${project} finds no type errors`, { skip }, async () => {
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', project], { cwd: root }).catch((e) => e)
    assert.equal(result.code ?? 0, 0, `${result.stdout ?? ''}${result.stderr ?? ''}`)
  })
}
