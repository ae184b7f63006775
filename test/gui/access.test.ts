// The Access page in Debian's Chromium against headless Berth with users on the TLS listener:
// a grant made on screen decides a real push at once, the check explains a decision, a group
// gets a member, and a robot token is shown once, pushes with skopeo, and is revoked after a
// confirmation.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { authority, runBerth, startBerth, type BerthServer } from '../helpers/berth-process'
import { launchBrowser, missingBrowser, screenshot } from '../helpers/browser'
import { attempt, buildImage, missingTools, run } from '../helpers/containers'
import { tempDir } from '../helpers/fixtures'
import { BerthGui } from './gui-pages'

const skip = missingBrowser() ?? (await missingTools('skopeo', 'buildah'))

describe('the Access page', { timeout: 300_000 }, () => {
  let server: BerthServer
  let browser: Browser
  let page: Page
  let gui: BerthGui
  let work: string
  let layout: string
  let certs: string

  before(async () => {
    if (skip) return
    work = tempDir('berth-access-')
    server = await startBerth(join(work, 'data'), ['--https-write', 'users'])
    for (const name of ['alice', 'bob']) await runBerth(['user', 'add', name, '--password-stdin', '--data-dir', server.dataDir], { input: 'pw\n' })
    certs = tempDir()
    await runBerth(['cert', 'ca', '--out', join(certs, 'ca.crt'), '--data-dir', server.dataDir])
    const image = await buildImage(work, { bytes: 50_000 })
    layout = `oci:${join(work, 'layout')}:app`
    await run('buildah', ['push', '-q', image, layout])
    browser = await launchBrowser()
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
    gui = new BerthGui(page, server.urls.gui)
    await gui.open()
  })
  after(async () => {
    if (skip) return
    await browser?.close()
    await server?.stop()
  })

  const pushAs = (creds: string, repository: string) =>
    attempt('skopeo', ['copy', '--dest-cert-dir', certs, '--dest-creds', creds, layout, `docker://${authority(server.urls.https)}/${repository}:1`])

  it('shows the built-in rules, and a revoke made on screen stops pushes at once', { skip }, async () => {
    await gui.go('access')
    const rules = page.getByRole('table')
    await rules.getByText('authenticated').waitFor()
    assert.ok((await pushAs('alice:pw', 'apps/one')).ok, 'alice may push with the built-in rule')
    await page.getByRole('button', { name: 'Revoke authenticated push *' }).click()
    await rules.getByText('authenticated').waitFor({ state: 'detached' })
    const refused = await pushAs('alice:pw', 'apps/two')
    assert.equal(refused.ok, false)
    assert.match(refused.output, /denied/i)
  })

  it('grants a group push on a prefix; the check explains the decision', { skip }, async () => {
    await page.getByLabel('New group').fill('web')
    await page.getByRole('button', { name: 'Add group' }).click()
    await page.getByLabel('User to add to web').selectOption('bob')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.locator('.chip', { hasText: 'bob' }).waitFor()

    await page.getByLabel('Who', { exact: true }).first().fill('group:web')
    await page.getByRole('checkbox', { name: 'push' }).check()
    await page.getByLabel('Repository prefix').fill('apps/web/')
    await page.getByRole('button', { name: 'Grant' }).click()
    await page.getByRole('table').getByText('group:web').first().waitFor()
    assert.ok((await pushAs('bob:pw', 'apps/web/site')).ok)
    assert.equal((await pushAs('alice:pw', 'apps/web/site')).ok, false)

    const check = page.locator('.card', { hasText: 'Check a decision' })
    await check.getByLabel('Who').fill('user:alice')
    await check.getByLabel('Action').selectOption('push')
    await check.getByLabel('Repository').fill('apps/web/site')
    await check.getByRole('button', { name: 'Check' }).click()
    await check.getByRole('status').getByText(/deny.*no grant gives user:alice push on apps\/web\/site/).waitFor()
    await screenshot(page, 'access')
  })

  it('creates a robot token shown once, which pushes within its scope, and revokes it after a confirmation', { skip }, async () => {
    const tokens = page.locator('.card', { hasText: 'Robot tokens for CI' })
    await tokens.getByLabel('Name').fill('ci')
    await tokens.getByLabel('Scope').fill('apps/ci/:pull,push')
    await tokens.getByRole('button', { name: 'Create token' }).click()
    const secret = (await tokens.locator('code.secret').innerText()).trim()
    assert.match(secret, /^berth_rt_/)
    assert.ok((await pushAs(`ci:${secret}`, 'apps/ci/job')).ok)
    await page.reload()
    await tokens.getByText('ci', { exact: true }).waitFor()
    assert.equal(await tokens.locator('code.secret').count(), 0, 'the token is never shown again')
    await tokens.getByRole('button', { name: 'Revoke' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
    await tokens.getByText('revoked').waitFor()
    assert.equal((await pushAs(`ci:${secret}`, 'apps/ci/job')).ok, false)
  })
})
