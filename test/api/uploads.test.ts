import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createHash } from 'node:crypto'
import { errorCode, pushBlob, randomBlob, sha256, startRegistry } from '../helpers/fixtures'

const octets = { 'content-type': 'application/octet-stream' }

async function startSession(app: Awaited<ReturnType<typeof startRegistry>>['app'], repository = 'repo') {
  const response = await app.inject({ method: 'POST', url: `/v2/${repository}/blobs/uploads/` })
  assert.equal(response.statusCode, 202)
  return response.headers.location as string
}

describe('blob uploads', () => {
  it('POST opens a session: 202 with Location, Range 0-0 and Docker-Upload-UUID', async () => {
    const { app } = await startRegistry()
    const response = await app.inject({ method: 'POST', url: '/v2/repo/blobs/uploads/' })
    assert.equal(response.statusCode, 202)
    const uuid = response.headers['docker-upload-uuid'] as string
    assert.match(uuid, /^[0-9a-f-]{36}$/)
    assert.equal(response.headers.location, `/v2/repo/blobs/uploads/${uuid}`)
    assert.equal(response.headers.range, '0-0')
  })

  it('POST ?digest= with the body stores the blob in one request (201)', async () => {
    const { app } = await startRegistry()
    const data = randomBlob(5000)
    const digest = sha256(data)
    const response = await app.inject({ method: 'POST', url: `/v2/repo/blobs/uploads/?digest=${digest}`, payload: data, headers: octets })
    assert.equal(response.statusCode, 201)
    assert.equal(response.headers.location, `/v2/repo/blobs/${digest}`)
    assert.equal(response.headers['docker-content-digest'], digest)
    const get = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}` })
    assert.deepEqual(get.rawPayload, data)
  })

  it('PATCH chunks with Content-Range, then PUT with the last chunk (201)', async () => {
    const { app } = await startRegistry()
    const data = randomBlob(30_000)
    const digest = sha256(data)
    let location = await startSession(app)
    const first = await app.inject({ method: 'PATCH', url: location, payload: data.subarray(0, 10_000), headers: { ...octets, 'content-range': '0-9999' } })
    assert.equal(first.statusCode, 202)
    assert.equal(first.headers.range, '0-9999')
    location = first.headers.location as string
    const second = await app.inject({ method: 'PATCH', url: location, payload: data.subarray(10_000, 20_000), headers: { ...octets, 'content-range': '10000-19999' } })
    assert.equal(second.statusCode, 202)
    assert.equal(second.headers.range, '0-19999')
    const put = await app.inject({ method: 'PUT', url: `${location}?digest=${digest}`, payload: data.subarray(20_000), headers: { ...octets, 'content-range': '20000-29999' } })
    assert.equal(put.statusCode, 201, put.body)
    assert.equal(put.headers['docker-content-digest'], digest)
    const get = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}` })
    assert.equal(sha256(get.rawPayload), digest)
  })

  it('PATCH streamed without Content-Range, then PUT with no body', async () => {
    const { app } = await startRegistry()
    const data = randomBlob(70_000)
    const location = await startSession(app)
    const patch = await app.inject({ method: 'PATCH', url: location, payload: data, headers: octets })
    assert.equal(patch.statusCode, 202)
    assert.equal(patch.headers.range, '0-69999')
    const put = await app.inject({ method: 'PUT', url: `${location}?digest=${sha256(data)}` })
    assert.equal(put.statusCode, 201)
  })

  it('an out-of-order chunk is refused with 416 and the session is unchanged', async () => {
    const { app } = await startRegistry()
    const data = randomBlob(200)
    const location = await startSession(app)
    await app.inject({ method: 'PATCH', url: location, payload: data.subarray(0, 100), headers: { ...octets, 'content-range': '0-99' } })
    const skip = await app.inject({ method: 'PATCH', url: location, payload: data.subarray(150), headers: { ...octets, 'content-range': '150-199' } })
    assert.equal(skip.statusCode, 416)
    assert.equal(skip.headers.range, '0-99')
    errorCode(skip)
    const status = await app.inject({ method: 'GET', url: location })
    assert.equal(status.headers.range, '0-99')
    await app.inject({ method: 'PATCH', url: location, payload: data.subarray(100), headers: { ...octets, 'content-range': '100-199' } })
    const put = await app.inject({ method: 'PUT', url: `${location}?digest=${sha256(data)}` })
    assert.equal(put.statusCode, 201)
  })

  it('a chunk shorter than its Content-Range is refused and leaves no bytes behind', async () => {
    const { app } = await startRegistry()
    const location = await startSession(app)
    const response = await app.inject({ method: 'PATCH', url: location, payload: randomBlob(10), headers: { ...octets, 'content-range': '0-99' } })
    assert.equal(response.statusCode, 400)
    assert.equal(errorCode(response), 'SIZE_INVALID')
    const status = await app.inject({ method: 'GET', url: location })
    assert.equal(status.headers.range, '0-0')
    const data = randomBlob(50)
    await app.inject({ method: 'PATCH', url: location, payload: data, headers: octets })
    assert.equal((await app.inject({ method: 'PUT', url: `${location}?digest=${sha256(data)}` })).statusCode, 201)
  })

  it('a malformed Content-Range is refused', async () => {
    const { app } = await startRegistry()
    const location = await startSession(app)
    const response = await app.inject({ method: 'PATCH', url: location, payload: 'x', headers: { ...octets, 'content-range': 'lots' } })
    assert.equal(response.statusCode, 416)
    errorCode(response)
  })

  it('GET on a session answers 204 with the Range received so far', async () => {
    const { app } = await startRegistry()
    const location = await startSession(app)
    const empty = await app.inject({ method: 'GET', url: location })
    assert.equal(empty.statusCode, 204)
    assert.equal(empty.headers.range, '0-0')
    assert.equal(empty.headers.location, location)
    await app.inject({ method: 'PATCH', url: location, payload: randomBlob(1234), headers: octets })
    const status = await app.inject({ method: 'GET', url: location })
    assert.equal(status.statusCode, 204)
    assert.equal(status.headers.range, '0-1233')
  })

  it('a digest mismatch answers DIGEST_INVALID and stores nothing', async () => {
    const { app, dataDir } = await startRegistry()
    const data = randomBlob(1000)
    const wrong = sha256('something else')
    const location = await startSession(app)
    await app.inject({ method: 'PATCH', url: location, payload: data, headers: octets })
    const put = await app.inject({ method: 'PUT', url: `${location}?digest=${wrong}` })
    assert.equal(put.statusCode, 400)
    assert.equal(errorCode(put), 'DIGEST_INVALID')
    assert.equal((await app.inject({ method: 'HEAD', url: `/v2/repo/blobs/${wrong}` })).statusCode, 404)
    assert.equal((await app.inject({ method: 'HEAD', url: `/v2/repo/blobs/${sha256(data)}` })).statusCode, 404)
    assert.equal((await app.inject({ method: 'GET', url: location })).statusCode, 404)
    assert.deepEqual(readdirSync(join(dataDir, 'uploads')), [])
    assert.deepEqual(readdirSync(join(dataDir, 'blobs')), [])

    const mono = await app.inject({ method: 'POST', url: `/v2/repo/blobs/uploads/?digest=${wrong}`, payload: data, headers: octets })
    assert.equal(mono.statusCode, 400)
    assert.equal(errorCode(mono), 'DIGEST_INVALID')
    assert.deepEqual(readdirSync(join(dataDir, 'uploads')), [])
  })

  it('PUT without a digest, or with a malformed one, is refused', async () => {
    const { app } = await startRegistry()
    const location = await startSession(app)
    const none = await app.inject({ method: 'PUT', url: location })
    assert.equal(none.statusCode, 400)
    assert.equal(errorCode(none), 'DIGEST_INVALID')
    const bad = await app.inject({ method: 'PUT', url: `${location}?digest=sha256:nope` })
    assert.equal(bad.statusCode, 400)
    assert.equal(errorCode(bad), 'DIGEST_INVALID')
    assert.equal((await app.inject({ method: 'GET', url: location })).statusCode, 204)
  })

  it('DELETE cancels a session (204); afterwards it is BLOB_UPLOAD_UNKNOWN', async () => {
    const { app, dataDir } = await startRegistry()
    const location = await startSession(app)
    await app.inject({ method: 'PATCH', url: location, payload: randomBlob(100), headers: octets })
    const del = await app.inject({ method: 'DELETE', url: location })
    assert.equal(del.statusCode, 204)
    for (const method of ['GET', 'PATCH', 'PUT', 'DELETE'] as const) {
      const response = await app.inject({ method, url: `${location}?digest=${sha256('')}` })
      assert.equal(response.statusCode, 404, method)
      assert.equal(errorCode(response), 'BLOB_UPLOAD_UNKNOWN')
    }
    assert.deepEqual(readdirSync(join(dataDir, 'uploads')), [])
  })

  it('a session belongs to its repository', async () => {
    const { app } = await startRegistry()
    const location = await startSession(app, 'mine')
    const response = await app.inject({ method: 'GET', url: location.replace('/mine/', '/yours/') })
    assert.equal(response.statusCode, 404)
    assert.equal(errorCode(response), 'BLOB_UPLOAD_UNKNOWN')
  })

  it('an unknown or malformed upload id is BLOB_UPLOAD_UNKNOWN', async () => {
    const { app } = await startRegistry()
    for (const id of ['0b1e9e2a-6f8e-4a1c-9a7e-1d2c3b4a5f6e', 'not-an-id']) {
      const response = await app.inject({ method: 'GET', url: `/v2/repo/blobs/uploads/${id}` })
      assert.equal(response.statusCode, 404)
      assert.equal(errorCode(response), 'BLOB_UPLOAD_UNKNOWN')
    }
  })

  it('sessions survive a restart and resume where they stopped', async () => {
    const registry = await startRegistry()
    const data = randomBlob(50_000)
    const location = await startSession(registry.app)
    await registry.app.inject({ method: 'PATCH', url: location, payload: data.subarray(0, 20_000), headers: { ...octets, 'content-range': '0-19999' } })
    await registry.restart()
    const status = await registry.app.inject({ method: 'GET', url: location })
    assert.equal(status.statusCode, 204)
    assert.equal(status.headers.range, '0-19999')
    const put = await registry.app.inject({ method: 'PUT', url: `${location}?digest=${sha256(data)}`, payload: data.subarray(20_000), headers: { ...octets, 'content-range': '20000-49999' } })
    assert.equal(put.statusCode, 201, put.body)
    const get = await registry.app.inject({ method: 'GET', url: `/v2/repo/blobs/${sha256(data)}` })
    assert.equal(sha256(get.rawPayload), sha256(data))
  })

  it('mounts a blob from another repository (201) and falls back to a session when it lacks it', async () => {
    const { app } = await startRegistry()
    const digest = await pushBlob(app, 'source', randomBlob(2000))
    const mount = await app.inject({ method: 'POST', url: `/v2/target/blobs/uploads/?mount=${digest}&from=source` })
    assert.equal(mount.statusCode, 201)
    assert.equal(mount.headers.location, `/v2/target/blobs/${digest}`)
    assert.equal(mount.headers['docker-content-digest'], digest)
    assert.equal((await app.inject({ method: 'HEAD', url: `/v2/target/blobs/${digest}` })).statusCode, 200)

    const missing = sha256('not stored anywhere')
    const fallback = await app.inject({ method: 'POST', url: `/v2/target/blobs/uploads/?mount=${missing}&from=source` })
    assert.equal(fallback.statusCode, 202)
    assert.match(fallback.headers.location as string, /^\/v2\/target\/blobs\/uploads\//)

    const wrongSource = await app.inject({ method: 'POST', url: `/v2/third/blobs/uploads/?mount=${digest}&from=empty` })
    assert.equal(wrongSource.statusCode, 202)
  })

  it('mounts automatically when `from` is absent but the blob is stored', async () => {
    const { app } = await startRegistry()
    const digest = await pushBlob(app, 'somewhere', randomBlob(500))
    const mount = await app.inject({ method: 'POST', url: `/v2/elsewhere/blobs/uploads/?mount=${digest}` })
    assert.equal(mount.statusCode, 201)
    assert.equal((await app.inject({ method: 'HEAD', url: `/v2/elsewhere/blobs/${digest}` })).statusCode, 200)
  })

  it('accepts sha512 digests', async () => {
    const { app } = await startRegistry()
    const data = randomBlob(3000)
    const digest = `sha512:${createHash('sha512').update(data).digest('hex')}`
    const response = await app.inject({ method: 'POST', url: `/v2/repo/blobs/uploads/?digest=${digest}`, payload: data, headers: octets })
    assert.equal(response.statusCode, 201)
    const get = await app.inject({ method: 'GET', url: `/v2/repo/blobs/${digest}` })
    assert.deepEqual(get.rawPayload, data)
  })
})
