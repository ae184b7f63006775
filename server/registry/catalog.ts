// GET /v2/_catalog and docker's GET /v1/search: the repositories the caller may pull, and no others.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Page } from '../store/manifests'
import { OciError } from './errors'
import { linkNextPage, pageRequest, type PageQuery } from './pagination'

/** Repositories after `last` that `visible` lets through, at most `limit`, read in chunks. */
export function visibleRepositories(list: (last: string, limit: number) => Page<string>, visible: (name: string) => boolean, last: string, limit: number): Page<string> {
  const items: string[] = []
  let cursor = last
  for (;;) {
    const page = list(cursor, Math.min(Math.max(limit - items.length, 100), 1000))
    for (const name of page.items) {
      if (!visible(name)) continue
      if (items.length === limit) return { items, more: true }
      items.push(name)
    }
    if (!page.more) return { items, more: false }
    cursor = page.items.at(-1)!
  }
}

type SearchQuery = { q?: string; n?: string; page?: string }

export async function catalogRoutes(app: FastifyInstance): Promise<void> {
  const list = (last: string, limit: number) => app.store.manifests.listRepositories(last, limit)

  app.get('/v2/_catalog', async (request: FastifyRequest<{ Querystring: PageQuery }>, reply) => {
    const { last, limit } = pageRequest(request.query)
    const page = visibleRepositories(list, request.mayPull, last, limit)
    linkNextPage(reply, '/v2/_catalog', page, limit)
    return reply.type('application/json').send({ repositories: page.items })
  })

  // docker pings the v1 endpoint before it searches; without the ping it gives up silently
  app.get('/v1/_ping', async (_request, reply) =>
    reply.header('X-Docker-Registry-Version', '0.6.0').header('X-Docker-Registry-Standalone', 'true').type('application/json').send({}),
  )

  // the format the docker CLI reads (`docker search HOST/TERM`)
  app.get('/v1/search', async (request: FastifyRequest<{ Querystring: SearchQuery }>, reply) => {
    const query = typeof request.query.q === 'string' ? request.query.q.toLowerCase() : ''
    const pageSize = request.query.n === undefined ? 25 : Number(request.query.n)
    const page = request.query.page === undefined ? 1 : Number(request.query.page)
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new OciError('PAGINATION_NUMBER_INVALID', 'n must be between 1 and 100')
    if (!Number.isInteger(page) || page < 1) throw new OciError('PAGINATION_NUMBER_INVALID', 'page must be 1 or more')
    const matches = visibleRepositories(list, (name) => name.includes(query) && request.mayPull(name), '', Number.MAX_SAFE_INTEGER).items
    const results = matches.slice((page - 1) * pageSize, page * pageSize).map((name) => ({ name, description: '', star_count: 0, is_official: false, is_automated: false }))
    return reply.type('application/json').send({
      query,
      num_results: matches.length,
      num_pages: Math.max(1, Math.ceil(matches.length / pageSize)),
      page,
      page_size: pageSize,
      results,
    })
  })
}
