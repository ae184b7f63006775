// The benchmark's quick mode runs end to end against the reference registry: every workload
// completes (the operations cost included) and every pulled body checks out. No timing is asserted (timing goals live in the
// benchmark's own report), but a broken push path or a crash fails here.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { missingTools } from '../helpers/containers'

const root = fileURLToPath(new URL('../..', import.meta.url))
const skip = await missingTools('docker-registry', 'skopeo', 'openssl')

it('npm run bench:quick measures every figure for Berth and the reference registry', { skip, timeout: 300_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/registry.ts', '--quick'], { cwd: root, maxBuffer: 16 << 20 })
  const lines = stdout.trim().split('\n')
  assert.match(lines.at(-1)!, /^summary: push monolithic http [\d.]+× \(\d+% of baseline\), .*small blob pull \(ops\/s\) [\d.]+×, skopeo copy 5 layers \(s\) [\d.]+×, manifest pulls with tokens \d+% of open, blob pulls with tokens \d+% of open, (\w+ with metrics and rate limits \d+% of off, ){4}CPU with metrics and rate limits [+-][\d.]+% \(control [+-][\d.]+%\)$/)
  const results = JSON.parse(readFileSync(`${root}/bench/results/registry-quick.json`, 'utf8')) as { raw: { samples: Record<string, { berth: number[]; reference: number[] }> } }
  for (const [figure, byTarget] of Object.entries(results.raw.samples)) {
    assert.ok(byTarget.berth.length >= 2, figure)
    assert.equal(byTarget.reference.length, byTarget.berth.length, figure)
    assert.ok([...byTarget.berth, ...byTarget.reference].every((v) => Number.isFinite(v) && v > 0), figure)
  }
})
