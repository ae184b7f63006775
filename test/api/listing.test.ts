import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { errorCode, pushImage, startRegistry } from '../helpers/fixtures'

type App = Awaited<ReturnType<typeof startRegistry>>['app']

async function tagMany(app: App, repository: string, tags: string[]) {
  const image = await pushImage(app, repository, tags[0])
  for (const tag of tags.slice(1)) {
    await app.inject({ method: 'PUT', url: `/v2/${repository}/manifests/${tag}`, payload: image.manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })
  }
}

async function getJson(app: App, url: string) {
  const response = await app.inject({ method: 'GET', url })
  return { response, body: JSON.parse(response.body) }
}

describe('tags/list', () => {
  it('lists tags in lexical (byte) order', async () => {
    const { app } = await startRegistry()
    await tagMany(app, 'repo', ['v10', 'latest', 'V2', 'v2', '1.0', 'a_b'])
    const { response, body } = await getJson(app, '/v2/repo/tags/list')
    assert.equal(response.statusCode, 200)
    assert.equal(response.headers.link, undefined)
    assert.deepEqual(body, { name: 'repo', tags: ['1.0', 'V2', 'a_b', 'latest', 'v10', 'v2'] })
  })

  it('pages with n and last, linking to the next page', async () => {
    const { app } = await startRegistry()
    await tagMany(app, 'team/repo', ['t1', 't2', 't3', 't4', 't5'])
    const first = await getJson(app, '/v2/team/repo/tags/list?n=2')
    assert.deepEqual(first.body.tags, ['t1', 't2'])
    assert.equal(first.response.headers.link, '</v2/team/repo/tags/list?n=2&last=t2>; rel="next"')
    const second = await getJson(app, '/v2/team/repo/tags/list?n=2&last=t2')
    assert.deepEqual(second.body.tags, ['t3', 't4'])
    const third = await getJson(app, '/v2/team/repo/tags/list?n=2&last=t4')
    assert.deepEqual(third.body.tags, ['t5'])
    assert.equal(third.response.headers.link, undefined)
    const afterUnknown = await getJson(app, '/v2/team/repo/tags/list?last=t25')
    assert.deepEqual(afterUnknown.body.tags, ['t3', 't4', 't5'])
    const exact = await getJson(app, '/v2/team/repo/tags/list?n=5')
    assert.equal(exact.body.tags.length, 5)
    assert.equal(exact.response.headers.link, undefined)
    const none = await getJson(app, '/v2/team/repo/tags/list?n=0')
    assert.deepEqual(none.body.tags, [])
  })

  it('refuses a bad n and answers NAME_UNKNOWN for an unknown repository', async () => {
    const { app } = await startRegistry()
    await tagMany(app, 'repo', ['a'])
    const bad = await app.inject({ method: 'GET', url: '/v2/repo/tags/list?n=-1' })
    assert.equal(bad.statusCode, 400)
    assert.equal(errorCode(bad), 'PAGINATION_NUMBER_INVALID')
    const unknown = await app.inject({ method: 'GET', url: '/v2/nobody/tags/list' })
    assert.equal(unknown.statusCode, 404)
    assert.equal(errorCode(unknown), 'NAME_UNKNOWN')
  })
})

describe('_catalog', () => {
  it('lists repositories holding manifests, sorted, with n/last paging and Link', async () => {
    const { app } = await startRegistry()
    for (const name of ['zeta', 'alpha/one', 'alpha', 'mid/a/b']) await pushImage(app, name, 'v1')
    await app.inject({ method: 'POST', url: '/v2/blobs-only/blobs/uploads/' })
    const all = await getJson(app, '/v2/_catalog')
    assert.deepEqual(all.body, { repositories: ['alpha', 'alpha/one', 'mid/a/b', 'zeta'] })
    const first = await getJson(app, '/v2/_catalog?n=3')
    assert.deepEqual(first.body.repositories, ['alpha', 'alpha/one', 'mid/a/b'])
    assert.equal(first.response.headers.link, '</v2/_catalog?n=3&last=mid%2Fa%2Fb>; rel="next"')
    const next = await getJson(app, '/v2/_catalog?n=3&last=mid%2Fa%2Fb')
    assert.deepEqual(next.body.repositories, ['zeta'])
    assert.equal(next.response.headers.link, undefined)
  })
})
