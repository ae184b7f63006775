// GET / HEAD / PUT / DELETE /v2/<name>/manifests/<reference>
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { MAX_MANIFEST_BYTES } from '../store/manifest-content'
import type { StoredManifest } from '../store/manifests'
import { parseManifestReference, type ManifestReference } from '../store/references'
import { bodyStream, pusher, repositoryName, requireDeletes, storeCall, userAgent } from './context'
import { OciError } from './errors'

type ManifestRequest = FastifyRequest<{ Params: { name: string; reference: string } }>

export async function manifestRoutes(app: FastifyInstance): Promise<void> {
  const { manifests, events } = app.store

  const reference = (request: ManifestRequest): ManifestReference => {
    const text = request.params.reference
    const parsed = parseManifestReference(text)
    if (parsed) return parsed
    if (text.includes(':')) throw new OciError('DIGEST_INVALID', `invalid digest: ${JSON.stringify(text)}`)
    throw new OciError('TAG_INVALID', `invalid tag: ${JSON.stringify(text)}`)
  }

  const lookUp = (request: ManifestRequest): StoredManifest => {
    const name = repositoryName(request)
    // a reference no push could have stored is simply not there (what the conformance suite expects)
    const ref = parseManifestReference(request.params.reference)
    if (!ref) throw new OciError('MANIFEST_UNKNOWN', `manifest ${JSON.stringify(request.params.reference)} is not in ${name}`)
    const manifest = manifests.get(name, ref)
    if (manifest) return manifest
    if (!manifests.repositoryExists(name)) throw new OciError('NAME_UNKNOWN', `repository ${name} is not known`)
    throw new OciError('MANIFEST_UNKNOWN', `manifest ${request.params.reference} is not in ${name}`)
  }

  const describe = (reply: FastifyReply, manifest: StoredManifest) =>
    reply
      .type(manifest.mediaType)
      .header('Docker-Content-Digest', manifest.digest)
      .header('ETag', `"${manifest.digest}"`)
      .header('Content-Length', manifest.size)

  app.head('/v2/:name/manifests/:reference', async (request: ManifestRequest, reply) => {
    const manifest = lookUp(request)
    const ref = parseManifestReference(request.params.reference)!
    if (ref.kind === 'digest' && request.mayWrite) manifests.touch(request.params.name, ref.digest)
    describe(reply, manifest)
    return reply.send()
  })

  app.get('/v2/:name/manifests/:reference', async (request: ManifestRequest, reply) => {
    const manifest = lookUp(request)
    events.record({
      kind: 'pull',
      repository: request.params.name,
      reference: request.params.reference,
      digest: manifest.digest,
      userAgent: userAgent(request),
    })
    return describe(reply, manifest).send(manifest.content)
  })

  app.put('/v2/:name/manifests/:reference', async (request: ManifestRequest, reply) => {
    const name = repositoryName(request)
    const ref = reference(request)
    const bytes = await readLimited(bodyStream(request), MAX_MANIFEST_BYTES, request.headers['content-length'])
    const result = await storeCall(() => manifests.put(name, ref, bytes, request.headers['content-type'], pusher(request)))
    events.record({
      kind: 'push',
      repository: name,
      reference: request.params.reference,
      digest: result.digest,
      userAgent: userAgent(request),
    })
    if (result.subject) reply.header('OCI-Subject', result.subject)
    return reply
      .status(201)
      .header('Location', `/v2/${name}/manifests/${result.digest}`)
      .header('Docker-Content-Digest', result.digest)
      .header('Content-Length', 0)
      .send()
  })

  app.delete('/v2/:name/manifests/:reference', async (request: ManifestRequest, reply) => {
    requireDeletes(app)
    const name = repositoryName(request)
    const ref = reference(request)
    const deleted = ref.kind === 'digest' ? manifests.deleteManifest(name, ref.digest) : manifests.deleteTag(name, ref.tag)
    if (!deleted) throw new OciError('MANIFEST_UNKNOWN', `manifest ${request.params.reference} is not in ${name}`)
    events.record({ kind: 'delete', repository: name, reference: request.params.reference, userAgent: userAgent(request) })
    return reply.status(202).header('Content-Length', 0).send()
  })
}

/** How much of an oversized body is read and dropped so the client can read the 413; past it the connection is cut. */
const MAX_DISCARD_BYTES = 64 << 20

/**
 * Reads a small body whole, refusing it once it passes `limit` bytes with 413. The rest of the
 * body is read and dropped first: closing on unread bytes resets the connection, and the client
 * would never see the answer.
 */
async function readLimited(body: Readable | undefined, limit: number, contentLength?: string): Promise<Buffer> {
  if (!body) throw new OciError('MANIFEST_INVALID', 'the request has no manifest body')
  const tooLarge = () => new OciError('MANIFEST_TOO_LARGE', `manifests are limited to ${limit} bytes`)
  const announced = contentLength === undefined ? undefined : Number(contentLength)
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of body as AsyncIterable<Buffer>) {
    length += chunk.length
    if (length > limit || (announced !== undefined && announced > limit)) {
      if ((announced ?? length) > limit + MAX_DISCARD_BYTES) {
        body.destroy()
        throw tooLarge()
      }
      for await (const rest of body as AsyncIterable<Buffer>) {
        length += rest.length
        if (length > limit + MAX_DISCARD_BYTES) {
          body.destroy()
          break
        }
      }
      throw tooLarge()
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, length)
}
