// The GUI at scale: how long a repository of 100, 500 and 10,000 tags takes to open in Chromium
// (navigation to the first page of rows on screen), how long its read model takes on the admin
// API, and how many bytes the first page is. Goal: under 300 ms and under 200 KB at 10,000 tags.
//   npm run bench:gui
import { join } from 'node:path'
import { startBerth } from '../test/helpers/berth-process'
import { launchBrowser, missingBrowser } from '../test/helpers/browser'
import { tempDir } from '../test/helpers/fixtures'
import { imageManifest, pushBlobHttp, pushManifestHttp } from '../test/helpers/http-client'
import { median, writeResults } from './report'

const SIZES = [100, 500, 10_000]
const ROUNDS = 7

const missing = missingBrowser()
if (missing) {
  console.error(`bench:gui needs Chromium and the built GUI: ${missing}`)
  process.exit(2)
}

const server = await startBerth(join(tempDir('berth-bench-gui-'), 'data'))
try {
  const gui = new URL(server.urls.gui)
  const token = gui.searchParams.get('token')!
  const images: string[] = []
  for (let i = 0; i < 50; i++) {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: i }))
    const layer = Buffer.from(`layer ${i}`)
    for (const size of SIZES) {
      await pushBlobHttp(server.http, `scale/${size}`, config)
      await pushBlobHttp(server.http, `scale/${size}`, layer)
    }
    images.push(imageManifest(config, [layer]))
  }
  for (const size of SIZES) {
    for (let start = 0; start < size; start += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, size - start) }, (_, k) => pushManifestHttp(server.http, `scale/${size}`, `1.${Math.floor((start + k) / 100)}.${(start + k) % 100}`, images[(start + k) % 50])),
      )
    }
  }

  const browser = await launchBrowser()
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage()
  await page.goto(server.urls.gui)
  const rows: string[][] = []
  const raw: Record<string, unknown> = {}
  for (const size of SIZES) {
    const name = `scale/${size}`
    const api: number[] = []
    let payload = 0
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now()
      const response = await fetch(`${gui.origin}/api/repository:get`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      })
      payload = (await response.arrayBuffer()).byteLength
      api.push(performance.now() - started)
    }
    const open: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      await page.goto(`${gui.origin}/#/`)
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
      const started = performance.now()
      await page.goto(`${gui.origin}/#/repositories/${encodeURIComponent(name)}`)
      await page.locator('tr[data-tag]').nth(Math.min(size, 50) - 1).waitFor()
      open.push(performance.now() - started)
    }
    raw[size] = { api, open, payload }
    rows.push([String(size), `${median(open).toFixed(0)} ms`, `${median(api).toFixed(1)} ms`, `${(payload / 1024).toFixed(1)} KiB`])
    console.log(`${size} tags: opens in ${median(open).toFixed(0)} ms; repository:get ${median(api).toFixed(1)} ms, ${(payload / 1024).toFixed(1)} KiB`)
  }
  await browser.close()
  writeResults('gui', {
    title: 'Opening a repository in the GUI (Chromium, first page of 50 tags, medians of 7)',
    columns: ['tags', 'opens in (goal < 300 ms at 10,000)', 'repository:get', 'first page (goal < 200 KB)'],
    rows,
    raw,
  })
} finally {
  await server.stop()
}
