// Tag retention: keep the last N, keep tags matching a pattern, drop tags older than D, per
// repository prefix (the longest wins). Every GC applies the rules first, as one undoable
// deletion per repository; a dry run and a preview change nothing.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GarbageCollector } from '../../server/gc/collector'
import { pushImage, startRegistry, type TestRegistry } from '../helpers/fixtures'

async function tagsOf(registry: TestRegistry, repository: string): Promise<string[]> {
  const answer = await registry.app.inject({ method: 'GET', url: `/v2/${repository}/tags/list` })
  return answer.statusCode === 200 ? (JSON.parse(answer.body).tags as string[]) : []
}

/** Pushes the tags in order, one millisecond apart, so "the last N" is well defined. */
async function pushTags(registry: TestRegistry, repository: string, tags: string[]) {
  for (const tag of tags) {
    await pushImage(registry.app, repository, tag)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

describe('retention', () => {
  it('keeps the last N and the tags matching the pattern; the longest prefix decides', async () => {
    const registry = await startRegistry()
    await pushTags(registry, 'ci/app', ['v1.0.0', 'build-1', 'build-2', 'build-3', 'build-4'])
    await pushTags(registry, 'ci/special', ['a', 'b', 'c'])
    await pushTags(registry, 'other', ['x', 'y'])
    const { retention } = registry.store
    retention.set({ prefix: 'ci/', keepLast: 2, keepMatching: 'v\\d+\\.\\d+\\.\\d+', dropOlderThanMs: null })
    retention.set({ prefix: 'ci/special', keepLast: 1, keepMatching: null, dropOlderThanMs: null })
    const plan = retention.plan()
    assert.deepEqual(
      plan.map((p) => [p.repository, p.tags.map((t) => t.name).sort()]),
      [
        ['ci/app', ['build-1', 'build-2']],
        ['ci/special', ['a', 'b']],
      ],
    )
    assert.match(plan[0].tags[0].reason, /not among the last 2/)
  })

  it('drops tags older than D unless a pattern keeps them', async () => {
    const registry = await startRegistry()
    await pushTags(registry, 'app', ['old', 'keep-me', 'new'])
    registry.store.db.prepare("UPDATE tags SET updated_at = updated_at - 40 * 86400000 WHERE name IN ('old', 'keep-me')").run()
    registry.store.retention.set({ prefix: '*', keepLast: null, keepMatching: 'keep-.*', dropOlderThanMs: 30 * 86400000 })
    assert.deepEqual(registry.store.retention.plan()[0].tags.map((t) => [t.name, t.reason]), [['old', 'older than 30d']])
  })

  it('refuses a rule that removes nothing, a bad pattern and a bad prefix', async () => {
    const { store } = await startRegistry()
    assert.throws(() => store.retention.set({ prefix: '*', keepLast: null, keepMatching: 'v.*', dropOlderThanMs: null }), /needs --keep-last N or --drop-older-than D/)
    assert.throws(() => store.retention.set({ prefix: '*', keepLast: 1, keepMatching: '(', dropOlderThanMs: null }), /not a regular expression/)
    assert.throws(() => store.retention.set({ prefix: 'Bad Prefix', keepLast: 1, keepMatching: null, dropOlderThanMs: null }), /not a repository prefix/)
  })

  it('runs with GC: the preview and a dry run change nothing; the run removes the tags as one undoable deletion and frees the images with --untagged', async () => {
    const registry = await startRegistry()
    await pushTags(registry, 'ci/app', ['1', '2', '3', '4'])
    registry.store.retention.set({ prefix: 'ci/', keepLast: 1, keepMatching: null, dropOlderThanMs: null })
    registry.store.webhooks.add({ name: 'ci', url: 'http://127.0.0.1:9/unreachable', actions: ['delete'] })
    const gc = new GarbageCollector(registry.store)
    const preview = gc.preview({ untagged: true, graceMs: 0 })
    assert.deepEqual(preview.retention[0].tags.map((t) => t.name).sort(), ['1', '2', '3'])
    assert.equal(preview.manifests, 3, 'the preview counts what the retention rules untag')
    const dry = await gc.run({ dryRun: true, untagged: true, graceMs: 0 })
    assert.equal(dry.retainedAway, 3)
    assert.deepEqual((await tagsOf(registry, 'ci/app')).sort(), ['1', '2', '3', '4'])

    const kept = await gc.run({ graceMs: 0 })
    assert.equal(kept.retainedAway, 3)
    assert.equal(registry.store.webhooks.pending('ci'), 3, 'one webhook delete event per tag the rules removed, and none for the dry runs')
    assert.equal(kept.manifests, 0, 'without --untagged the untagged images stay, pullable by digest')
    assert.deepEqual(await tagsOf(registry, 'ci/app'), ['4'])
    const [deletion] = registry.store.deletions.list()
    assert.equal(deletion.kind, 'selection')
    assert.equal(deletion.reference, '3 tags')
    registry.store.deletions.undo(deletion.id)
    assert.deepEqual((await tagsOf(registry, 'ci/app')).sort(), ['1', '2', '3', '4'])

    const freed = await gc.run({ untagged: true, graceMs: 0 })
    assert.equal(freed.retainedAway, 3)
    assert.equal(freed.manifests, 3)
    assert.deepEqual(await tagsOf(registry, 'ci/app'), ['4'])
    assert.equal(registry.store.deletions.list()[0].state, 'permanent')
  })
})
