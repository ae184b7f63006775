// GET /v2/<name>/referrers/<digest>[?artifactType=...]
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { MediaTypes } from '../store/manifest-content'
import { digestParam, repositoryName } from './context'

type ReferrersRequest = FastifyRequest<{ Params: { name: string; digest: string }; Querystring: { artifactType?: string } }>

export async function referrerRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v2/:name/referrers/:digest', async (request: ReferrersRequest, reply) => {
    const name = repositoryName(request)
    const subject = digestParam(request.params.digest)
    const { artifactType } = request.query
    const manifests = app.store.manifests.referrers(name, subject, artifactType)
    if (artifactType !== undefined) reply.header('OCI-Filters-Applied', 'artifactType')
    // serialized here so the Content-Type stays exactly the index media type (no charset)
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }))
    return reply.header('Content-Type', MediaTypes.ociIndex).send(index)
  })
}
