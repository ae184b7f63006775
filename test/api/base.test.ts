import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { errorCode, startRegistry } from '../helpers/fixtures'

describe('GET /v2/', () => {
  it('answers 200 with the API version header', async () => {
    const { app } = await startRegistry()
    const response = await app.inject({ method: 'GET', url: '/v2/' })
    assert.equal(response.statusCode, 200)
    assert.equal(response.headers['docker-distribution-api-version'], 'registry/2.0')
    assert.deepEqual(JSON.parse(response.body), {})
  })

  it('sends nosniff and frame-deny headers on every response, errors included', async () => {
    const { app } = await startRegistry()
    for (const url of ['/v2/', '/v2/nope/manifests/latest', '/elsewhere']) {
      const response = await app.inject({ method: 'GET', url })
      assert.equal(response.headers['x-content-type-options'], 'nosniff', url)
      assert.equal(response.headers['x-frame-options'], 'DENY', url)
    }
  })

  it('answers unknown routes with a 404 OCI error body', async () => {
    const { app } = await startRegistry()
    const response = await app.inject({ method: 'GET', url: '/v2/repo/unknown-area/x' })
    assert.equal(response.statusCode, 404)
    assert.equal(errorCode(response), 'UNSUPPORTED')
  })

  it('answers a method a route does not have with 405 UNSUPPORTED', async () => {
    const { app } = await startRegistry()
    const response = await app.inject({ method: 'POST', url: '/v2/repo/tags/list' })
    assert.ok([404, 405].includes(response.statusCode), String(response.statusCode))
    assert.equal(errorCode(response), 'UNSUPPORTED')
  })
})
