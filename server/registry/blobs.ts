// GET / HEAD / DELETE /v2/<name>/blobs/<digest>
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { digestParam, repositoryName, requireDeletes } from './context'
import { OciError } from './errors'
import { sendFileRange } from './send-file'

type BlobRequest = FastifyRequest<{ Params: { name: string; digest: string } }>

export async function blobRoutes(app: FastifyInstance): Promise<void> {
  const lookUp = (request: BlobRequest) => {
    const name = repositoryName(request)
    const digest = digestParam(request.params.digest)
    const blob = app.store.blobs.statInRepository(name, digest)
    if (!blob) throw new OciError('BLOB_UNKNOWN', `blob ${digest.text} is not in ${name}`)
    return { digest, blob }
  }

  const describe = (reply: FastifyReply, digest: string) =>
    reply
      .header('Docker-Content-Digest', digest)
      .header('Accept-Ranges', 'bytes')
      .header('ETag', `"${digest}"`)
      .header('Cache-Control', 'max-age=31536000')
      .type('application/octet-stream')

  app.head('/v2/:name/blobs/:digest', async (request: BlobRequest, reply) => {
    const { digest, blob } = lookUp(request)
    // a pusher's HEAD keeps the blob fresh for GC until its manifest comes; an anonymous
    // reader's must not, or anyone could keep garbage alive
    if (request.mayWrite) app.store.blobs.touch(request.params.name, digest)
    describe(reply, digest.text).header('Content-Length', blob.size)
    return reply.send()
  })

  app.get('/v2/:name/blobs/:digest', async (request: BlobRequest, reply) => {
    const { digest, blob } = lookUp(request)
    describe(reply, digest.text)
    const range = parseRange(request.headers.range, blob.size)
    if (range === 'unsatisfiable') {
      throw new OciError('RANGE_INVALID', `range ${request.headers.range} is outside the blob's ${blob.size} bytes`).withHeaders({
        'Content-Range': `bytes */${blob.size}`,
      })
    }
    if (range) {
      reply
        .status(206)
        .header('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`)
        .header('Content-Length', range.end - range.start + 1)
      return sendFileRange(reply, app.store.layout.blobPath(digest), range.start, range.end - range.start + 1)
    }
    reply.header('Content-Length', blob.size)
    if (blob.size === 0) return reply.send('')
    return sendFileRange(reply, app.store.layout.blobPath(digest), 0, blob.size)
  })

  app.delete('/v2/:name/blobs/:digest', async (request: BlobRequest, reply) => {
    requireDeletes(app)
    const name = repositoryName(request)
    const digest = digestParam(request.params.digest)
    if (!app.store.blobs.unlink(name, digest)) throw new OciError('BLOB_UNKNOWN', `blob ${digest.text} is not in ${name}`)
    return reply.status(202).header('Content-Length', 0).send()
  })
}

/** One `bytes=` range (RFC 9110); undefined for none or a form we serve whole. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null
  if (!match || (match[1] === '' && match[2] === '')) return undefined
  if (match[1] === '') {
    const suffix = Number(match[2])
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(match[1])
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  if (start >= size || end < start) return 'unsatisfiable'
  return { start, end }
}
