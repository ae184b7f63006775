import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { describe, it } from 'node:test'
import { isValidRepositoryName } from '../../server/store/references'
import { errorCode, pushImage, sha256, startRegistry } from '../helpers/fixtures'

describe('repository names', () => {
  it('accepts multi-level names and keeps them apart', async () => {
    const { app } = await startRegistry()
    const deep = await pushImage(app, 'team/app/api', 'v1')
    const shallow = await pushImage(app, 'team/app', 'v1')
    const a = await app.inject({ method: 'GET', url: '/v2/team/app/api/manifests/v1' })
    const b = await app.inject({ method: 'GET', url: '/v2/team/app/manifests/v1' })
    assert.equal(a.headers['docker-content-digest'], deep.digest)
    assert.equal(b.headers['docker-content-digest'], shallow.digest)
  })

  it('routes a repository whose name contains an API word', async () => {
    const { app } = await startRegistry()
    const image = await pushImage(app, 'x/blobs/manifests', 'v1')
    const response = await app.inject({ method: 'GET', url: '/v2/x/blobs/manifests/manifests/v1' })
    assert.equal(response.statusCode, 200)
    assert.equal(response.headers['docker-content-digest'], image.digest)
  })

  it('the name grammar refuses dot segments that clients would normalize away', () => {
    for (const name of ['..', 'a/../b', 'a/./b', '.', 'a/..']) assert.equal(isValidRepositoryName(name), false, name)
    for (const name of ['a', 'a/b/c', 'a.b', 'a__b', 'a---b', 'a_b/c-d.e']) assert.equal(isValidRepositoryName(name), true, name)
  })

  for (const name of ['UPPER', 'a//b', '-lead', 'trail-', 'a%2F..%2Fb', 'a%2e%2e', `${'a'.repeat(256)}`, 'a/.b']) {
    it(`refuses ${JSON.stringify(name.slice(0, 20))} with NAME_INVALID`, async () => {
      const { app } = await startRegistry()
      const response = await app.inject({ method: 'POST', url: `/v2/${name}/blobs/uploads/` })
      assert.equal(response.statusCode, 400, response.body)
      assert.equal(errorCode(response), 'NAME_INVALID')
    })
  }

  it('never lets a digest or upload id reach a path outside the data dir', async () => {
    const { app, dataDir } = await startRegistry()
    for (const url of [
      '/v2/repo/blobs/sha256:..%2F..%2F..%2Fetc%2Fpasswd',
      '/v2/repo/blobs/sha256%3A..%2F..%2Fberth.db',
      '/v2/repo/blobs/uploads/..%2F..%2Fberth.db',
      `/v2/repo/manifests/sha256:${'a'.repeat(63)}%2F`,
    ]) {
      const response = await app.inject({ method: 'GET', url })
      assert.ok([400, 404].includes(response.statusCode), `${url} → ${response.statusCode}`)
      errorCode(response)
    }
    const put = await app.inject({ method: 'PUT', url: '/v2/repo/blobs/uploads/..%2F..%2Fx?digest=' + sha256('') })
    assert.equal(put.statusCode, 404)
    assert.deepEqual(readdirSync(dataDir).sort(), ['berth.db', 'berth.db-shm', 'berth.db-wal', 'blobs', 'uploads'])
  })
})
