// The TypeScript sources typecheck (tsc --noEmit), so a type error fails the suite.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

it('tsc --noEmit finds no type errors', async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const root = fileURLToPath(new URL('..', import.meta.url))
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root }).catch((e) => e)
  assert.equal(result.code ?? 0, 0, `${result.stdout ?? ''}${result.stderr ?? ''}`)
})
