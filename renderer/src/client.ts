// The GUI's one client for the admin contract, over two transports: IPC through the preload's
// `window.berth` in the desktop app, HTTP (token cookie) and server-sent events when headless.
import type { ArgsOf, BerthBridge, Channel, LiveMessage, Reply, ResultOf } from '../../server/admin/contract'

declare global {
  interface Window {
    berth?: BerthBridge
  }
}

export class CallError extends Error {}

async function overHttp(channel: Channel, args: unknown): Promise<Reply<unknown>> {
  let response: Response
  try {
    response = await fetch(`api/${channel}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(args ?? {}),
      credentials: 'same-origin',
    })
  } catch {
    return { error: 'Berth is not answering: is it still running?' }
  }
  try {
    return (await response.json()) as Reply<unknown>
  } catch {
    return { error: `Berth answered ${response.status} ${response.statusText}` }
  }
}

export async function call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
  const reply = window.berth ? await window.berth.call(channel, args) : await overHttp(channel, args)
  if ('error' in reply) throw new CallError(reply.error)
  return reply.result as ResultOf<C>
}

/** Subscribes to the live stream; returns the unsubscribe. Reconnects by itself when headless. */
export function onLive(listener: (message: LiveMessage) => void): () => void {
  if (window.berth) return window.berth.onLive(listener)
  const source = new EventSource('api/events')
  source.onmessage = (event) => listener(JSON.parse(event.data as string) as LiveMessage)
  return () => source.close()
}
