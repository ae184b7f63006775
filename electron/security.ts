// Electron's security checklist, in one place: the window may not navigate away from the GUI,
// open windows, or get permissions; links to the web open in the browser.
import { app, session, shell } from 'electron'

const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write'])

export function lockDown(isAppUrl: (url: string) => boolean): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (isAppUrl(url)) return
      event.preventDefault()
      openExternal(url)
    })
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault()
    })
    contents.on('will-attach-webview', (event) => event.preventDefault())
    contents.setWindowOpenHandler(({ url }) => {
      openExternal(url)
      return { action: 'deny' }
    })
  })
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(ALLOWED_PERMISSIONS.has(permission)))
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => ALLOWED_PERMISSIONS.has(permission))
}

function openExternal(url: string): void {
  // only web pages leave the app, never file: or custom schemes
  if (/^https?:\/\//.test(url)) void shell.openExternal(url)
}
