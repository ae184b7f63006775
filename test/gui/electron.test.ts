// The desktop app itself, with Playwright's Electron driver: one window showing the GUI over IPC,
// the renderer locked down (no Node, only window.berth), and the registry serving. These run where
// the Electron binary exists and skip with the reason elsewhere.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { _electron, type ElectronApplication, type Page } from 'playwright-core'
import { tempDir } from '../helpers/fixtures'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('../..', import.meta.url))

function electronBinary(): { path?: string; reason?: string } {
  try {
    const path = require('electron') as unknown
    if (typeof path !== 'string' || !existsSync(path)) return { reason: `the Electron binary is missing (${String(path)})` }
    if (!existsSync(join(root, 'out', 'main', 'index.js'))) return { reason: 'the app is not built (npm run build)' }
    return { path }
  } catch (error) {
    return { reason: `the Electron binary is not available here: ${(error as Error).message.split('\n')[0]}` }
  }
}

const electron = electronBinary()

describe('the Electron app', () => {
  let app: ElectronApplication
  let appWindow: Page

  before(async () => {
    if (electron.reason) return
    const dataDir = join(tempDir(), 'data')
    mkdirSync(dataDir, { recursive: true })
    // free ports, so the test never collides with a Berth the developer runs
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ http: '127.0.0.1:0', https: '127.0.0.1:0', mtls: '127.0.0.1:0' }))
    const { electronSqliteBinding } = await import('../../bin/electron-native.mjs')
    const version = (require('electron/package.json') as { version: string }).version
    app = await _electron.launch({
      executablePath: electron.path!,
      args: [root],
      env: { ...process.env, BERTH_DATA_DIR: dataDir, BERTH_SQLITE_BINDING: electronSqliteBinding(version) } as Record<string, string>,
    })
    appWindow = await app.firstWindow()
  })
  after(async () => {
    if (electron.reason) return
    await app?.close()
  })

  it('opens one window titled Berth showing the overview with running endpoints', { skip: electron.reason }, async () => {
    await appWindow.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    assert.equal(await appWindow.title(), 'Berth')
    assert.match(await appWindow.locator('.endpoint').first().innerText(), /Running on localhost:\d+/)
    assert.equal(app.windows().length, 1)
  })

  it('runs the renderer isolated and sandboxed: no Node, only the typed bridge', { skip: electron.reason }, async () => {
    const exposed = await appWindow.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      bridge: Object.keys((window as unknown as { berth: object }).berth).sort(),
    }))
    assert.deepEqual(exposed, { require: 'undefined', process: 'undefined', bridge: ['call', 'onLive'] })
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const contents = BrowserWindow.getAllWindows()[0].webContents as unknown as { getLastWebPreferences(): Record<string, unknown> }
      const p = contents.getLastWebPreferences()
      return { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration }
    })
    assert.deepEqual(prefs, { contextIsolation: true, sandbox: true, nodeIntegration: false })
  })

  it('refuses to open other windows or navigate away', { skip: electron.reason }, async () => {
    await appWindow.evaluate(() => window.open('https://example.com'))
    await appWindow.evaluate(() => (window.location.href = 'https://example.com'))
    await appWindow.waitForTimeout(500)
    assert.equal(app.windows().length, 1)
    assert.match(appWindow.url(), /^file:.*index\.html/)
  })
})
