// The GUI at real scale, in Debian's Chromium against headless Berth: 500 and 10,000 tags (a
// page at a time, filter, sort by version), a 900×600 window, bulk delete with one undo that
// survives navigation, the manifest page (delete, parent index, image sizes, a layer's files),
// and axe-core finding no WCAG A/AA violation on any page in either theme.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { startBerth, type BerthServer } from '../helpers/berth-process'
import { launchBrowser, missingBrowser, screenshot } from '../helpers/browser'
import { tempDir } from '../helpers/fixtures'
import { digestOf, imageManifest, pushBlobHttp, pushManifestHttp } from '../helpers/http-client'
import { BerthGui } from './gui-pages'

const skip = missingBrowser()
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

describe('the GUI at scale', { timeout: 600_000 }, () => {
  let server: BerthServer
  let browser: Browser
  let page: Page
  let gui: BerthGui
  let admin: (channel: string, args: unknown) => Promise<{ status: number; body: string }>
  let layerDigest: string
  let amd64: string
  let index: string
  let amd64Size: number

  before(async () => {
    if (skip) return
    const work = tempDir('berth-scale-')
    server = await startBerth(join(work, 'data'))
    const gui0 = new URL(server.urls.gui)
    const token = gui0.searchParams.get('token')!
    admin = async (channel, args) => {
      const response = await fetch(`${gui0.origin}/api/${channel}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      })
      return { status: response.status, body: await response.text() }
    }

    // ci/app: 500 tags over 50 images (a CI's real shape: versions, branches, shas)
    const images: string[] = []
    for (let i = 0; i < 50; i++) {
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: i }))
      const layer = Buffer.from(`layer ${i}`)
      for (const repository of ['ci/app', 'ci/big']) {
        await pushBlobHttp(server.http, repository, config)
        await pushBlobHttp(server.http, repository, layer)
      }
      images.push(imageManifest(config, [layer]))
    }
    await inBatches(500, 32, (i) => pushManifestHttp(server.http, 'ci/app', i < 450 ? `1.${Math.floor(i / 10)}.${i % 10}` : `branch-${i}`, images[i % 50]))
    // ci/big: 10,000 tags
    await inBatches(10_000, 64, (i) => pushManifestHttp(server.http, 'ci/big', `build-${String(i).padStart(5, '0')}`, images[i % 50]))

    // web: a two-platform index whose amd64 image has a real gzipped tar layer
    const files = join(work, 'files')
    mkdirSync(join(files, 'etc'), { recursive: true })
    writeFileSync(join(files, 'etc', 'hello.txt'), 'x'.repeat(5000))
    writeFileSync(join(files, 'readme.md'), 'hi')
    execFileSync('tar', ['czf', join(work, 'layer.tgz'), '-C', files, 'etc', 'readme.md'])
    const tgz = readFileSync(join(work, 'layer.tgz'))
    layerDigest = await pushBlobHttp(server.http, 'web', tgz)
    const platforms: string[] = []
    for (const arch of ['amd64', 'arm64']) {
      const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', history: [{ created_by: `COPY files / # ${arch}` }] }))
      await pushBlobHttp(server.http, 'web', config)
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: tgz.length }],
      })
      platforms.push(await pushManifestHttp(server.http, 'web', digestOf(manifest), manifest))
      if (arch === 'amd64') {
        amd64 = platforms[0]
        amd64Size = manifest.length + config.length + tgz.length
      }
    }
    const indexJson = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: platforms.map((digest, i) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest,
        size: 0,
        platform: { os: 'linux', architecture: ['amd64', 'arm64'][i] },
      })),
    })
    index = await putIndex(server.http, 'web', '1.0', indexJson, platforms)

    browser = await launchBrowser()
    // bypassCSP: only so the test can inject axe-core; the GUI's own policy stays as shipped
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 }, bypassCSP: true })).newPage()
    gui = new BerthGui(page, server.urls.gui)
    await gui.open()
  })
  after(async () => {
    if (skip) return
    await browser?.close()
    await server?.stop()
  })

  it('answers a repository of 10,000 tags one page at a time, under 200 KB, with the totals', { skip }, async () => {
    const answer = await admin('repository:get', { name: 'ci/big' })
    assert.equal(answer.status, 200)
    assert.ok(answer.body.length < 200_000, `the first page is ${answer.body.length} bytes`)
    const view = JSON.parse(answer.body).result as { tagCount: number; matching: number; tags: { tag: string; tagCount: number }[] }
    assert.equal(view.tagCount, 10_000)
    assert.equal(view.tags.length, 50)
    const filtered = JSON.parse((await admin('repository:get', { name: 'ci/big', filter: 'build-0999', sort: 'name' })).body).result as typeof view
    assert.deepEqual(
      filtered.tags.map((t) => t.tag),
      Array.from({ length: 10 }, (_, i) => `build-0999${i}`),
    )
    assert.equal(filtered.matching, 10)
  })

  it('shows 10,000 tags a page at a time: paging and a filter', { skip }, async () => {
    await gui.go('repository', 'ci/big')
    await page.getByRole('heading', { name: 'Tags (10000)' }).waitFor()
    assert.equal(await page.locator('tr[data-tag]').count(), 50)
    const pager = page.getByRole('navigation', { name: 'Pages of tags' })
    assert.match(await pager.innerText(), /1–50 of 10000 tags/)
    await pager.getByRole('button', { name: 'Next' }).click()
    await pager.getByText('51–100 of 10000 tags').waitFor()
    await page.getByLabel('Filter tags').fill('build-0424')
    await pager.getByText('1–10 of 10 tags matching “build-0424”').waitFor()
    assert.equal(await page.locator('tr[data-tag]').count(), 10)
  })

  it('sorts 500 tags by version, highest first, and keeps the navigation in view', { skip }, async () => {
    await gui.go('repository', 'ci/app')
    await page.getByLabel('Sort').selectOption('semver')
    await page.locator('tr[data-tag]').first().and(page.locator('tr[data-tag="1.44.9"]')).waitFor()
    const order = await page.locator('tr[data-tag]').evaluateAll((rows) => rows.slice(0, 3).map((r) => r.getAttribute('data-tag')))
    assert.deepEqual(order, ['1.44.9', '1.44.8', '1.44.7'])
    await page.mouse.wheel(0, 5000)
    await page.waitForFunction(() => window.scrollY > 200)
    const nav = await page.getByRole('navigation', { name: 'Main' }).boundingBox()
    assert.ok(nav && nav.y >= 0 && nav.y < 10, `the sidebar stays at the top while the page scrolls (y = ${nav?.y})`)
  })

  it('deletes a selection with one confirmation; one Undo, still offered on another page, restores it all', { skip }, async () => {
    await gui.go('repository', 'ci/app')
    await page.getByLabel('Filter tags').fill('branch-')
    await page.getByRole('navigation', { name: 'Pages of tags' }).getByText('of 50 tags matching').waitFor()
    for (const tag of ['branch-450', 'branch-451', 'branch-452']) await page.getByRole('checkbox', { name: `Select ${tag}`, exact: true }).check()
    await page.getByRole('button', { name: 'Delete selected (3)' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByText('This deletes 3 tags of ci/app').waitFor()
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.locator('tr[data-tag="branch-450"]').waitFor({ state: 'detached' })
    for (const tag of ['branch-450', 'branch-451', 'branch-452']) assert.equal((await fetch(`${server.http}/v2/ci/app/manifests/${tag}`, { method: 'HEAD' })).status, 404)
    // focus went somewhere sensible, not to <body>
    assert.notEqual(await page.evaluate(() => document.activeElement?.tagName), 'BODY')

    await gui.go('overview')
    const notice = page.getByRole('status').filter({ hasText: 'Deleted 3 tags of ci/app' })
    await notice.getByRole('button', { name: 'Undo' }).click()
    await page.getByRole('status').filter({ hasText: 'Restored 3 tags of ci/app' }).waitFor()
    for (const tag of ['branch-450', 'branch-451', 'branch-452']) assert.equal((await fetch(`${server.http}/v2/ci/app/manifests/${tag}`, { method: 'HEAD' })).status, 200)
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('undo-notice')), true, 'focus moves to the notice after Undo')
    await page.getByRole('status').filter({ hasText: 'Restored' }).getByRole('button', { name: 'Dismiss' }).click()
  })

  it('asks before an added tag moves an existing tag to another manifest', { skip }, async () => {
    await gui.go('repository', 'ci/app')
    await page.getByLabel('Filter tags').fill('1.0.1')
    const row = page.locator('tr[data-tag="1.0.1"]')
    await row.waitFor()
    const before = await fetch(`${server.http}/v2/ci/app/manifests/1.0.0`, { method: 'HEAD' })
    await row.getByRole('button', { name: 'Add tag' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('New tag').fill('1.0.0')
    await dialog.getByRole('button', { name: 'Add tag' }).click()
    await dialog.getByRole('alert').getByText('ci/app:1.0.0 already names').waitFor()
    // nothing moved yet
    assert.equal((await fetch(`${server.http}/v2/ci/app/manifests/1.0.0`, { method: 'HEAD' })).headers.get('docker-content-digest'), before.headers.get('docker-content-digest'))
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })
  })

  it('deletes a repository and offers Undo on the list it lands on', { skip }, async () => {
    await gui.go('repository', 'ci/big')
    await page.getByRole('button', { name: 'Delete repository' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click()
    await gui.heading('Repositories')
    await page.getByRole('status').filter({ hasText: 'Deleted repository ci/big' }).getByRole('button', { name: 'Undo' }).click()
    await page.getByRole('link', { name: 'ci/big', exact: true }).waitFor()
    assert.equal((await fetch(`${server.http}/v2/ci/big/manifests/build-00001`, { method: 'HEAD' })).status, 200)
    await page.getByRole('status').filter({ hasText: 'Restored' }).getByRole('button', { name: 'Dismiss' }).click()
  })

  it('shows an index with image sizes per platform; a platform links back to it, matches history to layers, and lists its files', { skip }, async () => {
    await gui.go('repository', 'web')
    await page.locator('tr[data-tag="1.0"]').getByRole('link', { name: '1.0' }).click()
    const platforms = page.locator('.card', { hasText: 'Platforms (2)' })
    await platforms.waitFor()
    // what pulling the platform downloads (manifest, config and layer), not the manifest's size
    assert.match(await platforms.innerText(), new RegExp(`linux/amd64\\s+sha256:\\w+\\s+${amd64Size} B`))
    await platforms.getByRole('link').first().click()
    await page.getByText('Part of').waitFor()
    assert.match(await page.locator('.facts').first().innerText(), new RegExp(`the index\\s+${index.slice(0, 19)}`))
    const layers = page.locator('.card', { hasText: 'Layers (1)' })
    assert.match(await layers.innerText(), /COPY files \/ # amd64/)
    await layers.getByRole('button', { name: 'Files' }).click()
    const tree = page.getByRole('region', { name: /Files in layer/ })
    await tree.getByText('hello.txt').waitFor()
    assert.match(await tree.innerText(), /3 entries, 4\.9 KiB unpacked/)
    assert.match(await tree.innerText(), /etc\/\s*4\.9 KiB/)
    await screenshot(page, 'layer-files')
    assert.equal(amd64.length > 0, true)
    assert.equal(layerDigest.startsWith('sha256:'), true)
  })

  it('deletes a manifest and its tags from its own page, then the repository page offers Undo', { skip }, async () => {
    await gui.go('repository', 'web')
    await page.locator('tr[data-tag="1.0"]').getByRole('link', { name: '1.0' }).click()
    await page.getByRole('button', { name: 'Delete manifest and its tags' }).click()
    await page.getByRole('dialog').getByText('every tag that names it').waitFor()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click()
    await gui.heading(/\/ web$/)
    assert.equal((await fetch(`${server.http}/v2/web/manifests/1.0`, { method: 'HEAD' })).status, 404)
    await page.getByRole('status').filter({ hasText: 'Deleted manifest' }).getByRole('button', { name: 'Undo' }).click()
    await page.locator('tr[data-tag="1.0"]').waitFor()
    await page.getByRole('status').filter({ hasText: 'Restored' }).getByRole('button', { name: 'Dismiss' }).click()
  })

  it('sets a retention rule, previews what it would remove, runs it with GC, and undoes it', { skip }, async () => {
    await gui.go('gc')
    const card = page.locator('.card', { hasText: 'Retention rules' })
    await card.getByLabel('Repository prefix').fill('ci/app')
    await card.getByLabel('Keep the last').fill('10')
    await card.getByLabel('Keep tags matching').fill('1\\.44\\..*')
    await card.getByRole('button', { name: 'Save rule' }).click()
    assert.match(await card.locator('tr[data-prefix="ci/app"]').innerText(), /keep the last 10, keep tags matching \/1\\\.44\\\..*\//)
    await page.getByRole('button', { name: 'Preview (dry run)' }).click()
    const preview = page.locator('.retention-preview')
    await preview.waitFor()
    const count = Number(/would remove (\d+) tags in 1 repository/.exec(await preview.innerText())?.[1])
    // 500 tags, the last 10 pushed kept, and 1.44.0–1.44.9 kept (some may be among the last 10)
    assert.ok(count >= 480 && count <= 490, `the preview removes ${count} tags`)
    assert.equal((await listTags(server.http, 'ci/app')).length, 500, 'a preview removes nothing')
    await page.getByRole('button', { name: 'Run garbage collection' }).click()
    await page.getByRole('status').filter({ hasText: `The retention rules removed ${count} tags.` }).waitFor()
    const left = await listTags(server.http, 'ci/app')
    assert.equal(left.length, 500 - count)
    for (let i = 0; i < 10; i++) assert.ok(left.includes(`1.44.${i}`), `1.44.${i} matches the pattern and stays`)
    const pending = page.locator('.card', { hasText: 'Recently deleted, pending garbage collection' })
    await pending.getByRole('button', { name: `Undo: ${count} tags of ci/app` }).click()
    await page.getByRole('status').filter({ hasText: `Restored ${count} tags of ci/app` }).waitFor()
    assert.equal((await listTags(server.http, 'ci/app')).length, 500)
    await card.getByRole('button', { name: 'Remove the rule for ci/app' }).click()
    await card.locator('tr[data-prefix="ci/app"]').waitFor({ state: 'detached' })
    await page.getByRole('status').filter({ hasText: 'Restored' }).getByRole('button', { name: 'Dismiss' }).click()
  })

  it('fits a 900×600 window: no page scrolls sideways, the Trust page keeps its Install buttons reachable', { skip }, async () => {
    await page.setViewportSize({ width: 900, height: 600 })
    for (const where of ['overview', 'repositories', 'gc', 'trust', 'access', 'activity', 'webhooks', 'settings'] as const) {
      await gui.go(where)
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
      assert.ok(overflow <= 0, `${where} is ${overflow}px wider than the window`)
    }
    await gui.go('repository', 'ci/app')
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)) <= 0, 'the repository page fits')
    // a digest is one line: never broken mid-hash
    const digest = page.locator('tr[data-tag] .digest code').first()
    const box = await digest.boundingBox()
    assert.ok(box && box.height < 24, `a digest is ${box?.height}px tall`)
    await gui.go('trust')
    const install = page.getByRole('button', { name: /^Install trust for/ }).first()
    await install.scrollIntoViewIfNeeded()
    const button = await install.boundingBox()
    assert.ok(button && button.x >= 0 && button.x + button.width <= 900, 'an Install button is inside the window')
    await screenshot(page, 'narrow-window')
    await page.setViewportSize({ width: 1280, height: 860 })
  })

  it('names each page in the window title and has a skip link to the content', { skip }, async () => {
    await gui.go('gc')
    assert.equal(await page.title(), 'Garbage collection · Berth')
    await gui.go('repository', 'ci/app')
    assert.equal(await page.title(), 'ci/app · Berth')
    await page.keyboard.press('Tab')
    const skipLink = page.getByRole('link', { name: 'Skip to content' })
    await skipLink.press('Enter')
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'page-title')
  })

  for (const theme of ['light', 'dark'] as const) {
    it(`has no WCAG 2 A/AA violations (axe-core) on any page in the ${theme} theme`, { skip }, async () => {
      await page.getByLabel('Theme').selectOption(theme)
      const report: string[] = []
      const pages: [string, () => Promise<void>][] = [
        ...(['overview', 'repositories', 'gc', 'trust', 'access', 'activity', 'webhooks', 'settings'] as const).map((where): [string, () => Promise<void>] => [where, () => gui.go(where)]),
        ['repository', () => gui.go('repository', 'ci/app')],
        [
          'manifest',
          async () => {
            await gui.go('repository', 'web')
            await page.locator('tr[data-tag="1.0"]').getByRole('link', { name: '1.0' }).click()
            await page.locator('.card', { hasText: 'Platforms (2)' }).waitFor()
          },
        ],
      ]
      for (const [name, open] of pages) {
        await open()
        await page.addScriptTag({ path: AXE })
        const violations = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run: (context: Document, options: unknown) => Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe
          const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
          return result.violations.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`)
        })
        for (const v of violations) report.push(`${name}: ${v}`)
      }
      assert.deepEqual(report, [])
    })
  }
})

async function listTags(base: string, repository: string): Promise<string[]> {
  const answer = await fetch(`${base}/v2/${repository}/tags/list?n=10000`)
  return ((await answer.json()) as { tags: string[] }).tags
}

async function inBatches(count: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += width) await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, k) => task(start + k)))
}

async function putIndex(base: string, repository: string, tag: string, json: string, children: string[]): Promise<string> {
  // descriptor sizes must be the children's real sizes
  const sized = JSON.parse(json) as { manifests: { digest: string; size: number }[] }
  for (const [i, m] of sized.manifests.entries()) {
    const child = await fetch(`${base}/v2/${repository}/manifests/${children[i]}`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })
    m.size = Number(child.headers.get('content-length'))
  }
  const response = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    body: JSON.stringify(sized),
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
  })
  if (response.status !== 201) throw new Error(`index push: ${response.status} ${await response.text()}`)
  return response.headers.get('docker-content-digest')!
}
