// The GUI as a user drives it, in Debian's Chromium against headless `berth serve`: pushes with
// real clients appear without a reload; layers and platforms; delete, undo, delete again; GC
// preview and run; trust for podman-rootless; a client certificate that really pushes.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { authority, startBerth, type BerthServer } from '../helpers/berth-process'
import { launchBrowser, missingBrowser, screenshot } from '../helpers/browser'
import { attempt, buildImage, buildMultiArch, missingTools, run } from '../helpers/containers'
import { tempDir } from '../helpers/fixtures'
import { BerthGui } from './gui-pages'

const skip = missingBrowser() ?? (await missingTools('skopeo', 'buildah'))

describe('the GUI in Chromium', { timeout: 600_000 }, () => {
  let server: BerthServer
  let browser: Browser
  let page: Page
  let gui: BerthGui
  let work: string
  let home: string
  let http: string
  let image: string

  before(async () => {
    if (skip) return
    work = tempDir('berth-gui-')
    home = join(work, 'home')
    mkdirSync(home)
    // trust for podman-rootless is written under this HOME, never the real one
    server = await startBerth(join(work, 'data'), [], { env: { HOME: home } })
    http = authority(server.http)
    browser = await launchBrowser()
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true })
    page = await context.newPage()
    gui = new BerthGui(page, server.urls.gui)
    image = await buildImage(work, { bytes: 300_000 })
  })

  after(async () => {
    if (skip) return
    await browser?.close()
    await server?.stop()
  })

  it('opens with the token once, then drops it from the address bar; a fresh store teaches how to push', { skip }, async () => {
    await gui.open()
    assert.ok(!page.url().includes('token='), page.url())
    await gui.heading('Overview')
    await page.getByText('No images yet: push your first one').waitFor()
    await screenshot(page, 'overview-empty')
  })

  it('shows an image pushed with skopeo without a reload, with its platform and layers', { skip }, async () => {
    await gui.go('repositories')
    await page.getByText('No repositories yet').waitFor()
    await run('skopeo', ['copy', '--dest-tls-verify=false', `containers-storage:${image}`, `docker://${http}/team/app:v1`])
    // the live stream refreshes the page: no reload, no navigation
    await page.getByRole('link', { name: 'team/app' }).waitFor({ timeout: 10_000 })
    await page.getByRole('link', { name: 'team/app' }).click()
    const row = page.locator('tr[data-tag="v1"]')
    await row.waitFor()
    assert.match(await row.innerText(), /linux\/amd64/)
    await row.getByRole('link').first().click()
    await page.getByRole('heading', { name: 'Layers (1)' }).waitFor()
    assert.match(await page.locator('.card', { hasText: 'Configuration' }).innerText(), /linux \/ amd64/)
    assert.match(await page.locator('.card', { hasText: 'Configuration' }).innerText(), /org\.example\.test=berth/)
    await screenshot(page, 'manifest')
  })

  it('shows a multi-arch index with one row per platform', { skip }, async () => {
    const list = await buildMultiArch(work)
    await run('buildah', ['manifest', 'push', '--all', '--tls-verify=false', list, `docker://${http}/team/multi:v1`])
    await gui.go('repository', 'team/multi')
    const row = page.locator('tr[data-tag="v1"]')
    await row.waitFor()
    assert.match(await row.innerText(), /linux\/amd64, linux\/arm64/)
    await row.getByRole('link').first().click()
    await page.getByRole('heading', { name: 'Platforms (2)' }).waitFor()
    const platforms = await page.locator('.card', { hasText: 'Platforms (2)' }).innerText()
    assert.match(platforms, /linux\/amd64/)
    assert.match(platforms, /linux\/arm64/)
  })

  it('deletes a tag after saying what GC would free, undoes it, and deletes it again', { skip }, async () => {
    await run('skopeo', ['copy', '--dest-tls-verify=false', `containers-storage:${image}`, `docker://${http}/team/app:v2`])
    await gui.go('repository', 'team/app')
    await page.locator('tr[data-tag="v2"]').waitFor()
    await screenshot(page, 'repository')
    // v1 and v2 name the same manifest: deleting v1 frees nothing
    await page.getByRole('button', { name: 'Delete v1' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText('Garbage collection would then free').waitFor()
    assert.match(await dialog.innerText(), /free nothing/)
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.locator('tr[data-tag="v1"]').waitFor({ state: 'detached' })
    await page.getByRole('status').filter({ hasText: 'Deleted tag team/app:v1' }).getByRole('button', { name: 'Undo' }).click()
    await page.locator('tr[data-tag="v1"]').waitFor()
    // the last tag of the manifest: GC (removing untagged manifests) would free the image's bytes
    await page.getByRole('button', { name: 'Delete v1' }).click()
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.locator('tr[data-tag="v1"]').waitFor({ state: 'detached' })
    await page.getByRole('button', { name: 'Delete v2' }).click()
    await dialog.getByText('Garbage collection would then free').waitFor()
    assert.match(await dialog.innerText(), /also removes untagged manifests would free \d+(\.\d)? KiB \(1 manifest, 2 blobs\)/)
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.locator('tr[data-tag="v2"]').waitFor({ state: 'detached' })
  })

  it('previews garbage collection with the bytes, runs it with a progress bar, and the blobs are gone', { skip }, async () => {
    const manifest = await fetch(`${server.http}/v2/team/multi/manifests/v1`, { headers: { Accept: 'application/vnd.oci.image.index.v1+json' } })
    assert.equal(manifest.status, 200)
    await gui.go('gc')
    await page.getByRole('checkbox').check()
    await page.getByRole('button', { name: 'Preview (dry run)' }).click()
    const summary = page.locator('.gc-summary')
    await summary.waitFor()
    const preview = await summary.innerText()
    assert.match(preview, /1 manifest, 2 blobs/)
    const bytes = /Would free (.+?):/.exec(preview)![1]
    await screenshot(page, 'gc')
    // watch for the progress bar however briefly it shows
    await page.evaluate(() => {
      const w = window as unknown as { sawProgress: boolean }
      w.sawProgress = false
      new MutationObserver(() => {
        if (document.querySelector('[role=progressbar]')) w.sawProgress = true
      }).observe(document.body, { childList: true, subtree: true })
    })
    // two deletions (v1, v2) are still undoable: the run asks first, naming them
    await page.getByRole('button', { name: 'Run garbage collection' }).click()
    const confirm = page.getByRole('dialog')
    assert.match(await confirm.innerText(), /These 2 deletions can be undone now/)
    await confirm.getByRole('button', { name: 'Run garbage collection' }).click()
    const result = page.getByRole('status').filter({ hasText: 'Freed' })
    await result.waitFor()
    assert.ok(await page.evaluate(() => (window as unknown as { sawProgress: boolean }).sawProgress), 'a progress bar was shown')
    assert.match(await result.innerText(), new RegExp(`Freed ${bytes.replace('.', '\\.')}: removed 1 manifest, 2 blobs`))
    const gone = await fetch(`${server.http}/v2/team/app/manifests/v1`)
    assert.equal(gone.status, 404)
    const history = page.locator('.card', { hasText: 'History' })
    await history.getByText('run, untagged', { exact: true }).waitFor()
    // the preview was a dry run, and shows as one
    await history.getByText('dry run, untagged', { exact: true }).first().waitFor()
  })

  it('installs trust for podman-rootless and the matrix turns green; the files are where podman reads them', { skip }, async () => {
    const https = new URL(server.urls.https).port
    // before: "Copy pull" sends podman to the plain-HTTP port, told not to verify
    const podmanPull = async () => {
      await gui.go('repository', 'team/multi')
      const row = page.locator('tr[data-tag="v1"]')
      await row.getByText('Copy pull').click()
      return row.locator('.menu-panel').innerText()
    }
    const menu = await podmanPull()
    assert.match(menu, new RegExp(`podman pull --tls-verify=false localhost:${new URL(server.http).port}/team/multi:v1`))
    // the commands offered work as copied, with the real clients: podman by tag, skopeo by digest
    const offered = (client: string, form: RegExp) => menu.split('\n').find((line) => line.startsWith(`${client} `) && form.test(line))!
    const podman = offered('podman', /:v1$/)
    const skopeo = offered('skopeo', /@sha256:/)
    execFileSync(podman.split(' ')[0], podman.split(' ').slice(1), { cwd: work, stdio: 'pipe' })
    execFileSync(skopeo.split(' ')[0], skopeo.split(' ').slice(1), { cwd: work, stdio: 'pipe' })
    const archive = /oci-archive:(\S+)$/.exec(skopeo)![1]
    assert.ok(existsSync(join(work, archive)), `skopeo wrote ${archive}`)
    execFileSync('podman', ['rmi', podman.split(' ').at(-1)!], { stdio: 'pipe' })
    await gui.go('trust')
    const row = page.locator('tr[data-target="podman-rootless"]')
    await row.waitFor()
    assert.match(await row.innerText(), /missing/)
    await row.getByRole('button', { name: 'Install trust for Podman rootless' }).click()
    await page.getByText('Installed trust for Podman rootless.').waitFor()
    await row.locator('.badge', { hasText: 'missing' }).first().waitFor({ state: 'detached' })
    const cells = await row.locator('td .badge').allInnerTexts()
    assert.ok(cells.length >= 2 && cells.every((c) => c === 'installed'), cells.join(','))
    const caFile = join(home, '.config', 'containers', 'certs.d', `localhost:${https}`, 'ca.crt')
    assert.ok(existsSync(caFile), caFile)
    await row.getByRole('button', { name: 'Check' }).click()
    const doctor = page.getByRole('dialog')
    await doctor.getByText(`localhost:${https}`).waitFor()
    assert.doesNotMatch(await doctor.innerText(), /\bfail\b/)
    await doctor.getByRole('button', { name: 'Close' }).click()
    await screenshot(page, 'trust')
    // after: the TLS endpoint, verified
    const after = await podmanPull()
    assert.match(after, new RegExp(`podman pull localhost:${https}/team/multi:v1`))
    assert.match(after, new RegExp(`podman pull localhost:${https}/team/multi@sha256:[0-9a-f]{64}`))
  })

  it('issues a client certificate whose downloaded certs.d bundle pushes to the mTLS listener', { skip }, async () => {
    await gui.go('trust')
    await page.getByLabel('Certificate name').fill('ci-runner')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Issue and download' }).click()])
    assert.equal(download.suggestedFilename(), 'berth-client-ci-runner.tar.gz')
    const bundle = join(work, 'bundle.tar.gz')
    await download.saveAs(bundle)
    const mtls = authority(server.urls.mtls).replace('127.0.0.1', 'localhost')
    const listing = execFileSync('tar', ['-tzvf', bundle]).toString()
    for (const file of ['ca.crt', 'client.cert', 'client.key']) assert.match(listing, new RegExp(`${mtls}/${file}`))
    assert.match(listing, /-rw------- .*client\.key/)
    const certsDir = join(work, 'certs.d')
    mkdirSync(certsDir)
    execFileSync('tar', ['-xzf', bundle, '-C', certsDir])
    await page.locator('tr[data-client="ci-runner"]').getByText('valid').waitFor()
    await run('skopeo', ['copy', '--dest-cert-dir', join(certsDir, mtls), `containers-storage:${image}`, `docker://${mtls}/ci/app:v1`])
    const pushed = await fetch(`${server.http}/v2/ci/app/manifests/v1`, { method: 'HEAD' })
    assert.equal(pushed.status, 200)
    assert.ok(readFileSync(join(certsDir, mtls, 'client.key'), 'utf8').includes('PRIVATE KEY'))
    // the unpack command shown after issuing names the file that was saved
    assert.match(await page.getByRole('status').filter({ hasText: 'Issued' }).innerText(), /tar -xzf ~\/Downloads\/berth-client-ci-runner\.tar\.gz -C ~\/\.config\/containers\/certs\.d/)

    // revoked after a confirmation: the next push is refused, and Activity says why with a way to fix it
    await page.getByRole('button', { name: 'Revoke ci-runner' }).click()
    const confirm = page.getByRole('dialog')
    assert.match(await confirm.innerText(), /refused by the mTLS endpoint at once/)
    await confirm.getByRole('button', { name: 'Revoke' }).click()
    await page.locator('tr[data-client="ci-runner"]').getByText('revoked').waitFor()
    const refused = await attempt('skopeo', ['copy', '--dest-cert-dir', join(certsDir, mtls), `containers-storage:${image}`, `docker://${mtls}/ci/app:v2`])
    assert.equal(refused.ok, false)
    await gui.go('activity')
    const failure = page.locator('li.failure', { hasText: 'revoked client certificate' })
    await failure.waitFor({ timeout: 10_000 })
    await failure.getByRole('button', { name: 'Issue a client certificate' }).click()
    await gui.heading('Certificates & trust')
  })

  it('explains a failure in the activity log: plain HTTP sent to the TLS port', { skip }, async () => {
    const tlsPort = new URL(server.urls.https).port
    await fetch(`http://127.0.0.1:${tlsPort}/v2/`).catch(() => undefined)
    await gui.go('activity')
    const failure = page.locator('li.failure', { hasText: 'plain HTTP to a TLS port' })
    await failure.waitFor({ timeout: 10_000 })
    assert.match(await failure.innerText(), /Fix:/)
    assert.match(await page.locator('.activity').innerText(), /push\s+team\/app:v1/)
    // the deletes the GC made permanent no longer claim to be undoable
    assert.match(await page.locator('.activity').innerText(), /deletion \d+ \(permanent: a garbage collection removed it\)/)
    assert.doesNotMatch(await page.locator('.activity').innerText(), /\(undoable\)/)
    await screenshot(page, 'activity')
  })

  it('saves settings that apply at once: registry deletes switched off', { skip }, async () => {
    await gui.go('settings')
    await page.getByLabel('Allow deletes through the registry API').uncheck()
    await page.getByRole('button', { name: 'Save settings' }).click()
    await page.getByText('Saved.').waitFor()
    const saved = JSON.parse(readFileSync(join(server.dataDir, 'settings.json'), 'utf8')) as { deleteEnabled: boolean }
    assert.equal(saved.deleteEnabled, false)
    const refused = await fetch(`${server.http}/v2/team/multi/manifests/v1`, { method: 'DELETE' })
    assert.equal(refused.status, 405)
    await screenshot(page, 'settings')
  })

  it('takes the remaining screenshots: overview, repositories, and the dark theme', { skip }, async () => {
    await gui.go('overview')
    await page.getByRole('heading', { name: 'Recent activity' }).waitFor()
    await screenshot(page, 'overview')
    await gui.go('repositories')
    await page.getByRole('link', { name: 'team/multi' }).waitFor()
    await screenshot(page, 'repositories')
    await page.getByLabel('Theme').selectOption('dark')
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    assert.equal(background, 'rgb(15, 19, 24)')
    await gui.go('overview')
    await page.getByRole('heading', { name: 'Recent activity' }).waitFor()
    await screenshot(page, 'overview-dark')
  })
})
