// How the repository page orders tags: newest, by name, or by version (SemVer 2 precedence;
// partial versions such as 1.2 sort as 1.2.0; everything that is not a version comes after).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sortTags } from '../../server/admin/queries'

const tags = (names: string[]) => names.map((name, i) => ({ name, updated_at: i }))

describe('tag sorting', () => {
  it('sorts by version, highest first: pre-releases below their release, the rest by name after', () => {
    const sorted = sortTags(tags(['latest', '1.2', 'v1.10.0', '1.9.3', '1.10.0-rc.2', '1.10.0-rc.10', '1.10.0-beta', 'main', '2', 'sha-abc']), 'semver').map((t) => t.name)
    assert.deepEqual(sorted, ['2', 'v1.10.0', '1.10.0-rc.10', '1.10.0-rc.2', '1.10.0-beta', '1.9.3', '1.2', 'latest', 'main', 'sha-abc'])
  })

  it('sorts newest first, and by name in byte order', () => {
    assert.deepEqual(sortTags(tags(['a', 'b', 'c']), 'newest').map((t) => t.name), ['c', 'b', 'a'])
    assert.deepEqual(sortTags(tags(['b', 'B', 'a']), 'name').map((t) => t.name), ['B', 'a', 'b'])
  })
})
