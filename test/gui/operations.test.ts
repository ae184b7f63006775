// The operations pages in Debian's Chromium: a webhook added on screen, tested, receiving a real
// push with its delivery log showing the receiver's answers, removed after a confirmation; and
// a rate limit set in Settings that applies at once.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { startBerth, type BerthServer } from '../helpers/berth-process'
import { launchBrowser, missingBrowser, screenshot } from '../helpers/browser'
import { tempDir } from '../helpers/fixtures'
import { pushImage } from '../helpers/http-client'
import { BerthGui } from './gui-pages'

const skip = missingBrowser()

describe('the operations pages', { timeout: 300_000 }, () => {
  let server: BerthServer
  let browser: Browser
  let page: Page
  let gui: BerthGui
  let receiver: Server
  let hookUrl: string
  const received: { action: string; target: { repository: string } }[] = []

  before(async () => {
    if (skip) return
    server = await startBerth(join(tempDir(), 'data'))
    receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        received.push(...(JSON.parse(body) as { events: typeof received }).events)
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`
    browser = await launchBrowser()
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage()
    gui = new BerthGui(page, server.urls.gui)
    await gui.open()
  })
  after(async () => {
    if (skip) return
    await browser?.close()
    await server?.stop()
    receiver?.closeAllConnections()
    receiver?.close()
  })

  it('adds a webhook, tests it, shows the deliveries of a real push, and removes it after a confirmation', { skip }, async () => {
    await gui.go('webhooks')
    await page.getByLabel('Name').fill('ci')
    await page.getByLabel('URL').fill(hookUrl)
    await page.getByRole('checkbox', { name: 'pull' }).uncheck()
    await page.getByRole('button', { name: 'Add webhook' }).click()
    const row = page.locator('tr[data-webhook="ci"]')
    await row.waitFor()
    assert.match(await row.innerText(), /push, delete/)
    await row.getByRole('button', { name: 'Test ci' }).click()
    await page.getByRole('status').filter({ hasText: 'Test event to ci: delivered (204)' }).waitFor()

    await pushImage(server.http, 'hooked/app', 'v1')
    const deliveries = page.locator('.card', { hasText: 'Deliveries to ci' })
    await deliveries.locator('tbody tr').nth(3).waitFor({ timeout: 10_000 })
    assert.match(await deliveries.innerText(), /push\s+\w{8}\s+1\s+204/)
    assert.ok(received.some((e) => e.action === 'push' && e.target.repository === 'hooked/app'))
    await screenshot(page, 'webhooks')

    await row.getByRole('button', { name: 'Remove ci' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Remove' }).click()
    await row.waitFor({ state: 'detached' })
  })

  it('sets a rate limit in Settings that applies at once', { skip }, async () => {
    await gui.go('settings')
    await page.getByLabel('Rate limit per client address').fill('5,5')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Saved.').waitFor()
    const statuses = await Promise.all(Array.from({ length: 40 }, () => fetch(`${server.http}/v2/`).then((r) => r.status)))
    assert.ok(statuses.includes(429), 'a burst over 5 a second is refused')
    await page.getByLabel('Rate limit per client address').fill('auto')
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Saved.').waitFor()
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const after = await Promise.all(Array.from({ length: 40 }, () => fetch(`${server.http}/v2/`).then((r) => r.status)))
    assert.deepEqual([...new Set(after)], [200])
  })
})
