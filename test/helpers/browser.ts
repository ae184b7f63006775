// Debian's Chromium driven by Playwright, for GUI tests against headless Berth.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { atExit } from './cleanup'

export const CHROMIUM = '/usr/bin/chromium'
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
const ROOT = new URL('../..', import.meta.url).pathname

export function missingBrowser(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (CI installs the chromium package)`
  if (!existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) return 'the GUI is not built (npm run build; npm test builds it first)'
  return undefined
}

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })
  atExit(() => void browser.close().catch(() => {}))
  return browser
}

/**
 * Saves a screenshot under test-results/screenshots, and under docs/screenshots too when
 * BERTH_UPDATE_SCREENSHOTS=1 (how the README's pictures are refreshed).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const targets = [join(ROOT, 'test-results', 'screenshots')]
  if (process.env.BERTH_UPDATE_SCREENSHOTS === '1') targets.push(join(ROOT, 'docs', 'screenshots'))
  for (const dir of targets) {
    mkdirSync(dir, { recursive: true })
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true })
  }
}
