import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { errorCode, pushBlob, randomBlob, sha256, startRegistry } from '../helpers/fixtures'

describe('blobs', () => {
  it('GET and HEAD serve the bytes with length and digest', async () => {
    const { app } = await startRegistry()
    const data = randomBlob(300_000)
    const digest = await pushBlob(app, 'repo', data)
    const get = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}` })
    assert.equal(get.statusCode, 200)
    assert.equal(get.headers['content-length'], String(data.length))
    assert.equal(get.headers['docker-content-digest'], digest)
    assert.equal(sha256(get.rawPayload), digest)
    const head = await app.inject({ method: 'HEAD', url: `/v2/repo/blobs/${digest}` })
    assert.equal(head.statusCode, 200)
    assert.equal(head.headers['content-length'], String(data.length))
    assert.equal(head.headers['docker-content-digest'], digest)
    assert.equal(head.body, '')
  })

  it('serves an empty blob', async () => {
    const { app } = await startRegistry()
    const digest = await pushBlob(app, 'repo', Buffer.alloc(0))
    const get = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}` })
    assert.equal(get.statusCode, 200)
    assert.equal(get.headers['content-length'], '0')
    assert.equal(get.body, '')
  })

  it('answers 404 BLOB_UNKNOWN for an unknown blob, GET and HEAD', async () => {
    const { app } = await startRegistry()
    const digest = sha256('never pushed')
    const get = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}` })
    assert.equal(get.statusCode, 404)
    assert.equal(errorCode(get), 'BLOB_UNKNOWN')
    const head = await app.inject({ method: 'HEAD', url: `/v2/repo/blobs/${digest}` })
    assert.equal(head.statusCode, 404)
  })

  it('answers 400 DIGEST_INVALID for a malformed digest', async () => {
    const { app } = await startRegistry()
    for (const bad of ['sha256:totallywrong', 'md5:abc', 'sha256:' + 'A'.repeat(64), 'nocolon']) {
      const response = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${bad}` })
      assert.equal(response.statusCode, 400, bad)
      assert.equal(errorCode(response), 'DIGEST_INVALID')
    }
  })

  it("does not serve another repository's blob by digest", async () => {
    const { app } = await startRegistry()
    const digest = await pushBlob(app, 'owner', randomBlob(64))
    const response = await app.inject({ method: 'GET', url: `/v2/stranger/blobs/${digest}` })
    assert.equal(response.statusCode, 404)
    assert.equal(errorCode(response), 'BLOB_UNKNOWN')
  })

  it('serves byte ranges with 206 and Content-Range', async () => {
    const { app } = await startRegistry()
    const data = randomBlob(10_000)
    const digest = await pushBlob(app, 'repo', data)
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=9990-', 9990, 9999],
      ['bytes=-10', 9990, 9999],
      ['bytes=5000-20000', 5000, 9999],
    ]
    for (const [range, start, end] of cases) {
      const response = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}`, headers: { range } })
      assert.equal(response.statusCode, 206, range)
      assert.equal(response.headers['content-range'], `bytes ${start}-${end}/10000`)
      assert.equal(response.headers['content-length'], String(end - start + 1))
      assert.deepEqual(response.rawPayload, data.subarray(start, end + 1))
    }
  })

  it('answers an unsatisfiable range with 416', async () => {
    const { app } = await startRegistry()
    const digest = await pushBlob(app, 'repo', randomBlob(100))
    const response = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}`, headers: { range: 'bytes=100-200' } })
    assert.equal(response.statusCode, 416)
    assert.equal(response.headers['content-range'], 'bytes */100')
    errorCode(response)
  })

  it('DELETE unlinks the blob from the repository (202), then it is unknown there', async () => {
    const { app } = await startRegistry()
    const digest = await pushBlob(app, 'repo', randomBlob(100))
    await pushBlob(app, 'other', randomBlob(1)) // keeps the store non-trivial
    const del = await app.inject({ method: 'DELETE', url: `/v2/repo/blobs/${digest}` })
    assert.equal(del.statusCode, 202)
    const get = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}` })
    assert.equal(get.statusCode, 404)
    const again = await app.inject({ method: 'DELETE', url: `/v2/repo/blobs/${digest}` })
    assert.equal(again.statusCode, 404)
    assert.equal(errorCode(again), 'BLOB_UNKNOWN')
  })

  it('with deletes off, DELETE answers 405 UNSUPPORTED and keeps the blob', async () => {
    const { app } = await startRegistry({ deleteEnabled: false })
    const digest = await pushBlob(app, 'repo', randomBlob(100))
    const del = await app.inject({ method: 'DELETE', url: `/v2/repo/blobs/${digest}` })
    assert.equal(del.statusCode, 405)
    assert.equal(errorCode(del), 'UNSUPPORTED')
    assert.equal((await app.inject({ method: 'HEAD', url: `/v2/repo/blobs/${digest}` })).statusCode, 200)
  })

  it('stores a blob pushed to two repositories once on disk', async () => {
    const { app, store } = await startRegistry()
    const data = randomBlob(4096)
    await pushBlob(app, 'one', data)
    await pushBlob(app, 'two', data)
    const report = await store.fsck()
    assert.equal(report.checked.blobs, 1)
    assert.equal(report.checked.bytes, 4096)
    assert.equal(report.clean, true)
  })
})
