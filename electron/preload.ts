// The preload: exposes one typed object, window.berth, and nothing else. It runs sandboxed
// (so it is CommonJS and bundled), and only forwards the contract's channels.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { CHANNELS, type BerthBridge, type Channel, type LiveMessage } from '../server/admin/contract'

const LIVE_CHANNEL = 'berth:live'
const allowed = new Set<string>(CHANNELS)

const bridge: BerthBridge = {
  call(channel: Channel, args: unknown) {
    if (!allowed.has(channel)) return Promise.resolve({ error: `unknown admin operation ${JSON.stringify(channel)}` })
    return ipcRenderer.invoke(channel, args)
  },
  onLive(listener: (message: LiveMessage) => void) {
    const forward = (_event: IpcRendererEvent, message: LiveMessage) => listener(message)
    ipcRenderer.on(LIVE_CHANNEL, forward)
    return () => void ipcRenderer.removeListener(LIVE_CHANNEL, forward)
  },
}

contextBridge.exposeInMainWorld('berth', bridge)
