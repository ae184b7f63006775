// The desktop app's main process. Thin: it starts the core in-process (createBerth), shows the
// GUI in one locked-down window, serves the admin contract over IPC, and keeps a tray icon.
import { app, BrowserWindow, dialog, Menu, type IpcMainInvokeEvent } from 'electron'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createAdminService, type AdminService } from '../server/admin/handlers'
import { createBerth, type Berth } from '../server/berth'
import { berthOptionsFrom, loadSettings } from '../server/settings'
import { forwardLive, registerIpc } from './ipc'
import { lockDown } from './security'
import { createTray } from './tray'
import { keepWindowState, loadWindowState } from './window-state'

const rendererIndex = fileURLToPath(new URL('../renderer/index.html', import.meta.url))
const preload = fileURLToPath(new URL('../preload/index.cjs', import.meta.url))
const resources = fileURLToPath(new URL('../../resources/', import.meta.url))
const rendererUrl = pathToFileURL(rendererIndex).href

// BERTH_DATA_DIR moves everything, the browser profile too, so two data dirs are two apps.
if (process.env.BERTH_DATA_DIR) app.setPath('userData', join(process.env.BERTH_DATA_DIR, 'electron'))
const dataDir = process.env.BERTH_DATA_DIR ?? join(app.getPath('userData'), 'data')

let window: BrowserWindow | undefined
let berth: Berth | undefined
let service: AdminService | undefined
let quitting = false

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => showWindow())
  app.whenReady().then(start).catch(fail)
}

async function start(): Promise<void> {
  lockDown((url) => url === rendererUrl || url.startsWith(`${rendererUrl}#`))
  Menu.setApplicationMenu(process.platform === 'darwin' ? Menu.buildFromTemplate([{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }]) : null)
  const { notices, ...options } = berthOptionsFrom({}, loadSettings(dataDir))
  for (const notice of notices) process.stderr.write(`berth: ${notice}\n`)
  berth = await createBerth({
    dataDir,
    admin: null,
    ...options,
    log: (line) => process.stderr.write(`${line}\n`),
    restart: () => {
      app.relaunch()
      void quit()
    },
  })
  service = createAdminService(berth)
  registerIpc(service, isTrustedSender)
  createTray(join(resources, 'tray.png'), berth, { open: showWindow, quit: () => void quit() })
  process.stdout.write(`berth: data ${dataDir}\n`)
  for (const listener of berth.listeners) process.stdout.write(`berth: registry ${listener.kind.padEnd(5)} ${listener.url}\n`)
  process.stdout.write('berth: ready\n')
  showWindow()
  // the registry keeps serving from the tray when the window is closed
  app.on('window-all-closed', () => {})
  app.on('activate', showWindow)
  app.on('before-quit', (event) => {
    if (quitting) return
    event.preventDefault()
    void quit()
  })
}

function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  return Boolean(window && event.sender === window.webContents && event.senderFrame?.url.startsWith(rendererUrl))
}

function showWindow(): void {
  if (window && !window.isDestroyed()) {
    if (window.isMinimized()) window.restore()
    window.show()
    window.focus()
    return
  }
  const statePath = join(app.getPath('userData'), 'window-state.json')
  const state = loadWindowState(statePath)
  window = new BrowserWindow({
    ...state.bounds,
    minWidth: 760,
    minHeight: 520,
    show: false,
    title: 'Berth',
    icon: join(resources, 'icon.png'),
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  })
  if (state.maximized) window.maximize()
  keepWindowState(window, statePath)
  forwardLive(service!, window.webContents)
  window.once('ready-to-show', () => window?.show())
  window.on('closed', () => (window = undefined))
  void window.loadFile(rendererIndex)
}

async function quit(): Promise<void> {
  if (quitting) return
  quitting = true
  try {
    service?.close()
    await berth?.close()
  } finally {
    app.exit(0)
  }
}

function fail(error: Error): void {
  dialog.showErrorBox('Berth could not start', error.message)
  process.stderr.write(`berth: ${error.message}\n`)
  app.exit(2)
}
