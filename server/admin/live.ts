// The live stream behind the GUI: registry activity as it happens, GC progress, and notices
// that an area changed. Both transports (server-sent events, IPC) subscribe to one hub.
import type { Store } from '../store/store'
import { activityView } from './activity'
import type { LiveMessage } from './contract'

export class LiveHub {
  private readonly listeners = new Set<(message: LiveMessage) => void>()
  private readonly unsubscribe: () => void

  constructor(store: Store) {
    this.unsubscribe = store.events.subscribe((event) => this.publish({ type: 'event', event: activityView(event) }))
  }

  publish(message: LiveMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message)
      } catch {
        // a gone subscriber (closed window or stream) must not stop the others
      }
    }
  }

  subscribe(listener: (message: LiveMessage) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close(): void {
    this.unsubscribe()
    this.listeners.clear()
  }
}
