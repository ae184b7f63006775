// GET /v2/_catalog
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { linkNextPage, pageRequest, type PageQuery } from './pagination'

export async function catalogRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v2/_catalog', async (request: FastifyRequest<{ Querystring: PageQuery }>, reply) => {
    const { last, limit } = pageRequest(request.query)
    const page = app.store.manifests.listRepositories(last, limit)
    linkNextPage(reply, '/v2/_catalog', page, limit)
    return reply.type('application/json').send({ repositories: page.items })
  })
}
