// GET /v2/<name>/tags/list
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { repositoryName, storeCall } from './context'
import { linkNextPage, pageRequest, type PageQuery } from './pagination'

type TagsRequest = FastifyRequest<{ Params: { name: string }; Querystring: PageQuery }>

export async function tagRoutes(app: FastifyInstance): Promise<void> {
  app.get('/v2/:name/tags/list', async (request: TagsRequest, reply) => {
    const name = repositoryName(request)
    const { last, limit } = pageRequest(request.query)
    const page = await storeCall(() => app.store.manifests.listTags(name, last, limit))
    linkNextPage(reply, `/v2/${name}/tags/list`, page, limit)
    return reply.type('application/json').send({ name, tags: page.items })
  })
}
