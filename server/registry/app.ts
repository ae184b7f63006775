// Builds the registry's Fastify app (apart from listen(), so tests can inject()).
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { accessPolicy, type AccessOptions } from '../auth/access'
import type { Store } from '../store/store'
import { baseRoutes } from './base'
import { blobRoutes } from './blobs'
import { catalogRoutes } from './catalog'
import { OciError } from './errors'
import { recordRefusal } from './failures'
import { manifestRoutes } from './manifests'
import { referrerRoutes } from './referrers'
import { registryContext, type RegistryPolicy } from './context'
import { tagRoutes } from './tags'
import { uploadRoutes } from './uploads'

export interface RegistryAppOptions {
  store: Store
  policy: RegistryPolicy
  /** who may write; open when absent */
  access?: AccessOptions
  /** Node's https options for a TLS listener; plain HTTP when absent */
  https?: import('node:https').ServerOptions
}

/**
 * Repository names may hold slashes, which a router cannot tell from path separators. The
 * route's tail (blobs/…, manifests/…, tags/list, referrers/…) can be, so the name before it
 * is folded into one URL-encoded segment and each plugin routes on `/v2/:name/...`.
 */
const REGISTRY_ROUTE = /^\/v2\/(.+)\/(blobs\/uploads\/[^/]*|blobs\/[^/]+|manifests\/[^/]+|tags\/list|referrers\/[^/]+)$/

export function foldRepositoryName(url: string): string {
  const queryAt = url.indexOf('?')
  const path = queryAt < 0 ? url : url.slice(0, queryAt)
  const match = REGISTRY_ROUTE.exec(path)
  if (!match) return url
  const query = queryAt < 0 ? '' : url.slice(queryAt)
  return `/v2/${encodeURIComponent(match[1])}/${match[2]}${query}`
}

export async function buildRegistryApp(options: RegistryAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    logger: false,
    rewriteUrl: (request) => foldRepositoryName(request.url ?? '/'),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    keepAliveTimeout: 65_000,
    // Large layers take as long as they take; a stalled client is cut off by the socket timeout.
    requestTimeout: 0,
    connectionTimeout: 0,
    return503OnClosing: true,
    // a request the HTTP parser cannot read still gets the spec's error body
    clientErrorHandler: (error, socket) => {
      if (!socket.writable) return socket.destroy(error)
      const body = JSON.stringify(new OciError('BAD_REQUEST', 'malformed HTTP request').toBody())
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    },
  })

  // Bodies stay streams: blobs are hashed and written as they arrive, never buffered.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))

  app.addHook('onRequest', async (_request, reply) => {
    reply.header('Docker-Distribution-API-Version', 'registry/2.0')
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('X-Frame-Options', 'DENY')
  })

  app.setErrorHandler((error: FastifyError | OciError, request: FastifyRequest, reply: FastifyReply) => {
    const oci = error instanceof OciError ? error : fromFrameworkError(error)
    if (oci.errorName === 'INTERNAL') app.log.error(error)
    recordRefusal(options.store.events, request, oci)
    reply.status(oci.status).headers(oci.headers).type('application/json').send(oci.toBody())
  })
  app.setNotFoundHandler((request) => {
    throw new OciError('ROUTE_UNKNOWN', `${request.method} ${request.url}`)
  })

  await app.register(registryContext, options)
  await app.register(accessPolicy, options.access ?? { writes: 'open', tls: Boolean(options.https) })
  await app.register(baseRoutes)
  await app.register(blobRoutes)
  await app.register(uploadRoutes)
  await app.register(manifestRoutes)
  await app.register(tagRoutes)
  await app.register(catalogRoutes)
  await app.register(referrerRoutes)
  return app
}

function fromFrameworkError(error: FastifyError): OciError {
  if (error.statusCode === 405) return new OciError('METHOD_UNKNOWN', error.message)
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return new OciError('BAD_REQUEST', error.message)
  return new OciError('INTERNAL', error.message)
}
