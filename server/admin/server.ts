// The admin listener: the GUI's files and the admin API for headless Berth (in the desktop app
// the same operations go over IPC). Loopback only, and every request must:
//  - name this listener in its Host header (a DNS-rebinding page has another host name),
//  - carry the token: `Authorization: Bearer`, or the cookie set when the GUI URL is opened once
//    with ?token=, which is then dropped from the address bar,
//  - when a browser says where it comes from (Origin, Sec-Fetch-Site), come from this origin.
// No CORS headers are ever sent, so other origins cannot read answers either.
import fastifyStatic from '@fastify/static'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Berth } from '../berth'
import type { LiveMessage } from './contract'
import { createAdminService } from './handlers'

export interface AdminAppOptions {
  berth: Berth
  token: string
  /** the built GUI; default out/renderer beside the sources */
  rendererDir?: string
}

/** The GUI may load only its own files and talk only to this listener. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]']
const HEARTBEAT_MS = 15_000
const MAX_BODY_BYTES = 1 << 20

/** out/renderer of the checkout this code runs from: the sources (server/admin/) or a bundle (out/cli/…). */
export function defaultRendererDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'out', 'renderer')
    if (existsSync(join(candidate, 'index.html'))) return candidate
    if (existsSync(join(dir, 'package.json')) || dirname(dir) === dir) return candidate
  }
}

export async function buildAdminApp(options: AdminAppOptions): Promise<FastifyInstance> {
  const service = createAdminService(options.berth)
  const rendererDir = options.rendererDir ?? defaultRendererDir()
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, return503OnClosing: true })
  app.addHook('onClose', async () => service.close())

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('X-Frame-Options', 'DENY')
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header('Cache-Control', 'no-store')
    const port = request.raw.socket.localPort
    const allowedHosts = LOOPBACK_NAMES.map((name) => `${name}:${port}`)
    const host = request.headers.host ?? ''
    if (!allowedHosts.includes(host)) {
      return refuse(reply, 403, `refused: the Host header ${JSON.stringify(host)} does not name this listener (open http://127.0.0.1:${port}/)`)
    }
    const origin = request.headers.origin
    if (origin !== undefined && origin !== `http://${host}`) return refuse(reply, 403, 'refused: cross-origin requests are not allowed')
    if (request.headers['sec-fetch-site'] === 'cross-site') return refuse(reply, 403, 'refused: cross-site requests are not allowed')

    const fromUrl = (request.query as { token?: unknown }).token
    if (typeof fromUrl === 'string' && request.method === 'GET' && sameToken(fromUrl, options.token)) {
      // once from the URL, then a cookie; the token leaves the address bar and the history
      const path = request.url.split('?')[0]
      reply.header('Set-Cookie', `${cookieName(port)}=${options.token}; HttpOnly; SameSite=Strict; Path=/`)
      return reply.redirect(path, 303)
    }
    if (!sameToken(presentedToken(request, port), options.token)) {
      return refuse(reply, 401, 'the admin API needs the token: open the URL from the "berth: gui" line, or send Authorization: Bearer TOKEN')
    }
  })

  app.addHook('onSend', async (_request, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    return payload
  })

  app.get('/metrics', async (_request, reply) => {
    const metrics = options.berth.metrics
    if (!metrics) return reply.status(404).type('text/plain').send('metrics are off (berth serve --metrics off)\n')
    const { contentType, body } = await metrics.text()
    return reply.type(contentType).send(body)
  })

  app.post('/api/:channel', async (request: FastifyRequest<{ Params: { channel: string } }>, reply) => {
    // JSON only: a form post from another page cannot send it without a refused preflight
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return refuse(reply, 415, 'send the arguments as application/json')
    }
    try {
      return { result: await service.call(request.params.channel, request.body) }
    } catch (error) {
      return reply.status(400).send({ error: (error as Error).message })
    }
  })

  app.get('/api/events', (request, reply) => {
    reply.hijack()
    const response = reply.raw
    response.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
    })
    response.write(': berth live stream\n\n')
    const send = (message: LiveMessage) => response.write(`data: ${JSON.stringify(message)}\n\n`)
    const unsubscribe = service.live.subscribe(send)
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS).unref()
    request.raw.on('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
    })
  })

  if (existsSync(rendererDir)) {
    await app.register(fastifyStatic, { root: rendererDir, index: 'index.html', wildcard: true, cacheControl: false })
  } else {
    app.get('/', async (_request, reply) =>
      reply
        .status(503)
        .type('text/plain')
        .send(`The GUI is not built (${rendererDir} is missing): run npm run build, then reload. The admin API works meanwhile.`),
    )
  }
  app.setNotFoundHandler((_request, reply) => refuse(reply, 404, 'not found'))
  return app
}

function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.status(status).type('application/json').send({ error: message })
}

function cookieName(port: number | undefined): string {
  // cookies are shared by every port of a host: one name per listener
  return `berth_token_${port}`
}

function presentedToken(request: FastifyRequest, port: number | undefined): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]
  if (bearer) return bearer
  const name = cookieName(port)
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}
