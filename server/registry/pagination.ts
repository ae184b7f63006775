// `n` / `last` pagination and the Link header shared by tags/list and _catalog.
import type { FastifyReply } from 'fastify'
import type { Page } from '../store/manifests'
import { OciError } from './errors'

/** Without `n`, a whole list is returned (what clients expect); pages are capped at this size. */
const MAX_PAGE = 10_000

export interface PageQuery {
  n?: string | string[]
  last?: string | string[]
}

export function pageRequest(query: PageQuery): { last: string; limit: number; explicit: boolean } {
  if (Array.isArray(query.n)) throw new OciError('PAGINATION_NUMBER_INVALID', 'n may be given once')
  if (Array.isArray(query.last)) throw new OciError('BAD_REQUEST', 'last may be given once')
  const last = query.last ?? ''
  if (query.n === undefined || query.n === '') return { last, limit: Number.MAX_SAFE_INTEGER, explicit: false }
  if (!/^\d+$/.test(query.n)) throw new OciError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, not ${JSON.stringify(query.n)}`)
  return { last, limit: Math.min(Number(query.n), MAX_PAGE), explicit: true }
}

/** Sets `Link: <path?n=N&last=X>; rel="next"` when more items follow. */
export function linkNextPage(reply: FastifyReply, path: string, page: Page<string>, limit: number): void {
  const lastItem = page.items.at(-1)
  if (!page.more || lastItem === undefined) return
  const query = new URLSearchParams({ n: String(limit), last: lastItem })
  reply.header('Link', `<${path}?${query}>; rel="next"`)
}
