// berth retention against a running server: a rule set from the CLI, its preview, a gc that
// applies it (and says so), and one undo that restores the tags.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runBerth, startBerth } from '../helpers/berth-process'
import { tempDir } from '../helpers/fixtures'
import { pushImage } from '../helpers/http-client'

describe('berth retention', () => {
  it('sets a rule, previews it, applies it with gc, and one undo restores the tags', async () => {
    const dataDir = tempDir()
    const server = await startBerth(dataDir)
    try {
      for (const tag of ['1', '2', '3']) {
        await pushImage(server.http, 'ci/app', tag)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      const set = await runBerth(['retention', 'set', 'ci/', '--keep-last', '1', '--data-dir', dataDir])
      assert.equal(set.code, 0, set.stderr)
      assert.match(set.stdout, /retention for ci\/: keep the last 1/)
      const bad = await runBerth(['retention', 'set', 'ci/', '--drop-older-than', 'soon', '--data-dir', dataDir])
      assert.equal(bad.code, 2)
      assert.match(bad.stderr, /not a duration: "soon"/)
      const preview = await runBerth(['retention', 'preview', '--data-dir', dataDir])
      assert.match(preview.stdout, /ci\/app:1 {2}not among the last 1 \(rule ci\/\)/)
      assert.match(preview.stdout, /ci\/app:2 /)
      assert.doesNotMatch(preview.stdout, /ci\/app:3/)
      const gc = await runBerth(['gc', '--data-dir', dataDir])
      assert.equal(gc.code, 0, gc.stderr)
      assert.match(gc.stdout, /the retention rules removed 2 tags first/)
      const tags = async () => ((await (await fetch(`${server.http}/v2/ci/app/tags/list`)).json()) as { tags: string[] }).tags
      assert.deepEqual(await tags(), ['3'])
      assert.equal((await runBerth(['undo', '--data-dir', dataDir])).code, 0)
      assert.deepEqual(await tags(), ['1', '2', '3'])
      assert.equal((await runBerth(['retention', 'remove', 'ci/', '--data-dir', dataDir])).code, 0)
      assert.match((await runBerth(['retention', 'list', '--data-dir', dataDir])).stdout, /no retention rules/)
    } finally {
      await server.stop()
    }
  })
})
