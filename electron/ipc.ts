// The IPC transport of the admin contract: one handler per '<area>:<action>' channel, all
// registered through one wrapper that accepts calls only from Berth's own window and page, and
// answers { result } or { error } (an Error does not cross IPC intact).
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron'
import { CHANNELS, type LiveMessage, type Reply } from '../server/admin/contract'
import type { AdminService } from '../server/admin/handlers'

export const LIVE_CHANNEL = 'berth:live'

export function registerIpc(service: AdminService, isTrustedSender: (event: IpcMainInvokeEvent) => boolean): () => void {
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (event, args: unknown): Promise<Reply<unknown>> => {
      if (!isTrustedSender(event)) return { error: 'refused: this call did not come from the Berth window' }
      try {
        return { result: await service.call(channel, args) }
      } catch (error) {
        return { error: (error as Error).message }
      }
    })
  }
  return () => CHANNELS.forEach((channel) => ipcMain.removeHandler(channel))
}

/** Forwards the live stream to a window for as long as it exists. */
export function forwardLive(service: AdminService, contents: WebContents): () => void {
  const unsubscribe = service.live.subscribe((message: LiveMessage) => {
    if (!contents.isDestroyed()) contents.send(LIVE_CHANNEL, message)
  })
  contents.once('destroyed', unsubscribe)
  return unsubscribe
}
