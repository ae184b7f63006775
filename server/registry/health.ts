// GET /livez and /readyz: probes for scripts, compose files and CI (zot uses the same names).
// Public like /v2/: they tell whether Berth serves, not what it stores.
import type { FastifyInstance } from 'fastify'
import type { Readiness } from '../health'

export interface HealthOptions {
  readiness?: () => Promise<Readiness>
}

export async function healthRoutes(app: FastifyInstance, options: HealthOptions): Promise<void> {
  app.get('/livez', async (_request, reply) => reply.type('application/json').send({ status: 'live' }))
  app.get('/readyz', async (_request, reply) => {
    if (!options.readiness) return reply.type('application/json').send({ status: 'ready', checks: {} })
    const readiness = await options.readiness()
    return reply
      .status(readiness.status === 'ready' ? 200 : 503)
      .type('application/json')
      .send(readiness)
  })
}
