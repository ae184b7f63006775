// The tray (menu-bar) icon: status, copy the registry address, open the window, quit.
import { clipboard, Menu, nativeImage, Tray } from 'electron'
import type { Berth } from '../server/berth'
import { isRegistryListener } from '../server/listeners'
import { clientAddress } from '../server/admin/handlers'

export function createTray(iconPath: string, berth: Berth, actions: { open: () => void; quit: () => void }): Tray {
  const tray = new Tray(nativeImage.createFromPath(iconPath))
  const registries = berth.listeners.filter(isRegistryListener)
  const preferred = registries.find((l) => l.kind === 'https') ?? registries[0]
  const address = preferred ? clientAddress(preferred.host, preferred.port) : undefined
  tray.setToolTip(address ? `Berth: registry on ${address}` : 'Berth: no registry listener')
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: address ? `Running on ${registries.map((l) => clientAddress(l.host, l.port)).join(', ')}` : 'No registry listener', enabled: false },
      { type: 'separator' },
      { label: 'Copy registry address', enabled: Boolean(address), click: () => address && clipboard.writeText(address) },
      { label: 'Open Berth', click: actions.open },
      { type: 'separator' },
      { label: 'Quit Berth', click: actions.quit },
    ]),
  )
  tray.on('click', actions.open)
  return tray
}
