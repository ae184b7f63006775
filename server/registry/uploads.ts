// Blob uploads: POST (session, monolithic ?digest=, cross-repository ?mount=&from=),
// PATCH chunks, PUT to finish, GET status, DELETE to cancel.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isValidUploadId } from '../store/layout'
import { isValidRepositoryName } from '../store/references'
import type { ChunkRange, UploadSession } from '../store/uploads'
import { bodyStream, digestParam, repositoryName, storeCall, uploadedRange } from './context'
import { OciError } from './errors'

type StartRequest = FastifyRequest<{ Params: { name: string }; Querystring: { digest?: string; mount?: string; from?: string } }>
type SessionRequest = FastifyRequest<{ Params: { name: string; uploadId: string }; Querystring: { digest?: string } }>

export async function uploadRoutes(app: FastifyInstance): Promise<void> {
  const { blobs, uploads } = app.store

  const created = (reply: FastifyReply, name: string, digest: string) =>
    reply
      .status(201)
      .header('Location', `/v2/${name}/blobs/${digest}`)
      .header('Docker-Content-Digest', digest)
      .header('Content-Length', 0)
      .send()

  const inProgress = (reply: FastifyReply, session: UploadSession, status: 202 | 204) =>
    reply
      .status(status)
      .header('Location', `/v2/${session.repository}/blobs/uploads/${session.id}`)
      .header('Range', uploadedRange(session.size))
      .header('Docker-Upload-UUID', session.id)
      .header('Content-Length', 0)
      .send()

  const sessionId = (request: SessionRequest) => {
    const id = request.params.uploadId
    if (!isValidUploadId(id)) throw new OciError('BLOB_UPLOAD_UNKNOWN', `no upload ${JSON.stringify(id)}`)
    return id
  }

  app.post('/v2/:name/blobs/uploads/', async (request: StartRequest, reply) => {
    const name = repositoryName(request)
    const { digest: digestText, mount, from } = request.query
    const body = bodyStream(request)

    if (mount !== undefined) {
      const digest = digestParam(mount)
      if (from !== undefined && !isValidRepositoryName(from)) throw new OciError('NAME_INVALID', `invalid repository name: ${JSON.stringify(from)}`)
      // Without `from`, any stored copy will do: the client proved it knows the digest.
      const source = from === undefined ? blobs.stat(digest) : blobs.statInRepository(from, digest)
      if (source && blobs.link(name, digest)) {
        body?.resume()
        return created(reply, name, digest.text)
      }
    }

    if (digestText !== undefined && mount === undefined) {
      const digest = digestParam(digestText)
      const session = await storeCall(() => uploads.create(name))
      try {
        await storeCall(() => uploads.commit(session.id, name, digest, body))
      } catch (error) {
        // a one-request upload leaves no session behind, whatever went wrong
        await uploads.cancel(session.id, name).catch(() => {})
        throw error
      }
      return created(reply, name, digest.text)
    }

    body?.resume()
    return inProgress(reply, await storeCall(() => uploads.create(name)), 202)
  })

  app.patch('/v2/:name/blobs/uploads/:uploadId', async (request: SessionRequest, reply) => {
    const name = repositoryName(request)
    const id = sessionId(request)
    const range = parseContentRange(request.headers['content-range'])
    const body = bodyStream(request)
    const session = body
      ? await storeCall(() => uploads.append(id, name, body, range))
      : await storeCall(() => uploads.get(id, name))
    return inProgress(reply, session, 202)
  })

  app.put('/v2/:name/blobs/uploads/:uploadId', async (request: SessionRequest, reply) => {
    const name = repositoryName(request)
    const id = sessionId(request)
    if (request.query.digest === undefined) throw new OciError('DIGEST_INVALID', 'the digest query parameter is required to finish an upload')
    const digest = digestParam(request.query.digest)
    const range = parseContentRange(request.headers['content-range'])
    const blob = await storeCall(() => uploads.commit(id, name, digest, bodyStream(request), range))
    return created(reply, name, blob.digest)
  })

  app.get('/v2/:name/blobs/uploads/:uploadId', async (request: SessionRequest, reply) => {
    const name = repositoryName(request)
    const session = await storeCall(() => uploads.get(sessionId(request), name))
    return inProgress(reply, session, 204)
  })

  app.delete('/v2/:name/blobs/uploads/:uploadId', async (request: SessionRequest, reply) => {
    const name = repositoryName(request)
    await storeCall(() => uploads.cancel(sessionId(request), name))
    return reply.status(204).send()
  })
}

/** `Content-Range: <start>-<end>` as the distribution spec writes it (a `bytes ` prefix is tolerated). */
function parseContentRange(header: string | undefined): ChunkRange | undefined {
  if (header === undefined) return undefined
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim())
  if (!match || Number(match[2]) < Number(match[1])) {
    throw new OciError('RANGE_INVALID', `malformed Content-Range ${JSON.stringify(header)}; expected <start>-<end>`)
  }
  return { start: Number(match[1]), end: Number(match[2]) }
}
