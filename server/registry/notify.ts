// Turns finished registry requests into webhook events, as distribution does: a manifest or
// blob pushed, a manifest or blob pulled (GET), a manifest or tag deleted.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { makeEvent, type DistributionEvent, type WebhookAction, type Webhooks } from '../webhooks/webhooks'

const BLOB_MEDIA_TYPE = 'application/octet-stream'

/** Queues the webhook event a finished request makes, if any endpoint is configured. */
export function notifyWebhooks(webhooks: Webhooks, route: string, request: FastifyRequest, reply: FastifyReply): void {
  if (webhooks.list().length === 0) return
  const what = describe(route, request, reply)
  if (!what) return
  const socket = request.raw.socket
  const event = makeEvent(
    what.action,
    what.target,
    { id: request.id, addr: `${request.ip}:${socket.remotePort ?? 0}`, host: request.headers.host ?? '', method: request.method, useragent: String(request.headers['user-agent'] ?? '') },
    request.identity,
    { addr: `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`, instanceID: webhooks.instanceId },
  )
  try {
    webhooks.enqueue(event)
  } catch {
    // a full disk or a busy database: the request already succeeded; the event is lost, not the push
  }
}

function describe(route: string, request: FastifyRequest, reply: FastifyReply): { action: WebhookAction; target: DistributionEvent['target'] } | undefined {
  const status = reply.statusCode
  const params = request.params as { name?: string; reference?: string; digest?: string }
  const repository = params.name
  if (!repository) return undefined
  const header = (name: string) => {
    const value = reply.getHeader(name)
    return value === undefined ? undefined : String(value)
  }
  const tagOf = (reference: string | undefined) => (reference && !reference.includes(':') ? { tag: reference } : {})
  const url = `/v2/${repository}`
  if (route.endsWith('/manifests/:reference')) {
    const digest = header('docker-content-digest') ?? (params.reference?.includes(':') ? params.reference : undefined)
    if (request.method === 'PUT' && status === 201) {
      const size = Number(request.headers['content-length'] ?? 0)
      return { action: 'push', target: { mediaType: String(request.headers['content-type'] ?? ''), size, length: size, digest, repository, url: `${url}/manifests/${digest}`, ...tagOf(params.reference) } }
    }
    if (request.method === 'GET' && status === 200) {
      const size = Number(header('content-length') ?? 0)
      return { action: 'pull', target: { mediaType: header('content-type')?.split(';')[0], size, length: size, digest, repository, url: `${url}/manifests/${digest}`, ...tagOf(params.reference) } }
    }
    if (request.method === 'DELETE' && status === 202) return { action: 'delete', target: { repository, ...(params.reference?.includes(':') ? { digest: params.reference } : tagOf(params.reference)) } }
  }
  if (route.endsWith('/blobs/:digest')) {
    if (request.method === 'GET' && status === 200) {
      const size = Number(header('content-length') ?? 0)
      return { action: 'pull', target: { mediaType: BLOB_MEDIA_TYPE, size, length: size, digest: params.digest, repository, url: `${url}/blobs/${params.digest}` } }
    }
    if (request.method === 'DELETE' && status === 202) return { action: 'delete', target: { repository, digest: params.digest } }
  }
  // an upload finished (PUT), or a monolithic push or a mount (POST answered 201)
  if (route.includes('/blobs/uploads') && status === 201 && (request.method === 'PUT' || request.method === 'POST')) {
    const digest = header('docker-content-digest')
    return { action: 'push', target: { mediaType: BLOB_MEDIA_TYPE, digest, repository, url: `${url}/blobs/${digest}` } }
  }
  return undefined
}
