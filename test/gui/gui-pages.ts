// A page object for the GUI: how a user gets to each page (by the navigation, as they would).
import type { Page } from 'playwright-core'

const NAV_LABELS = {
  overview: 'Overview',
  repositories: 'Repositories',
  gc: 'Garbage collection',
  trust: 'Certificates & trust',
  access: 'Access',
  activity: 'Activity',
  settings: 'Settings',
  webhooks: 'Webhooks',
} as const

export class BerthGui {
  constructor(
    readonly page: Page,
    /** the URL from the `berth: gui` line, token included */
    readonly url: string,
  ) {}

  /** Opens the GUI URL (the token becomes a cookie) and waits for the app to render. */
  async open(): Promise<void> {
    await this.page.goto(this.url)
    await this.page.getByRole('navigation', { name: 'Main' }).waitFor()
  }

  async go(page: keyof typeof NAV_LABELS | 'repository', name?: string): Promise<void> {
    if (page === 'repository') {
      await this.go('repositories')
      await this.page.getByRole('link', { name, exact: true }).click()
      await this.heading(new RegExp(`/ ${name!.replace('/', '\\/')}$`))
      return
    }
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: NAV_LABELS[page], exact: true }).click()
    await this.heading(page === 'gc' ? 'Garbage collection' : NAV_LABELS[page])
  }

  async heading(name: string | RegExp): Promise<void> {
    await this.page.getByRole('heading', { level: 1, name }).waitFor()
  }
}
