// The window: navigation on the left, the current page on the right.
import { useState } from 'react'
import { focusHeading } from './components'
import { LiveProvider } from './live'
import { UndoBanner, UndoProvider } from './undo'
import { href, useRoute, type Route } from './router'
import { useTheme, type Theme } from './theme'
import { AccessPage } from './pages/Access'
import { ActivityPage } from './pages/Activity'
import { GcPage } from './pages/GarbageCollection'
import { ManifestPage } from './pages/Manifest'
import { OverviewPage } from './pages/Overview'
import { RepositoriesPage } from './pages/Repositories'
import { RepositoryPage } from './pages/Repository'
import { SettingsPage } from './pages/Settings'
import { TrustPage } from './pages/Trust'
import { WebhooksPage } from './pages/Webhooks'

const NAV: { route: Route; label: string; matches: Route['page'][] }[] = [
  { route: { page: 'overview' }, label: 'Overview', matches: ['overview'] },
  { route: { page: 'repositories' }, label: 'Repositories', matches: ['repositories', 'repository', 'manifest'] },
  { route: { page: 'gc' }, label: 'Garbage collection', matches: ['gc'] },
  { route: { page: 'trust' }, label: 'Certificates & trust', matches: ['trust'] },
  { route: { page: 'access' }, label: 'Access', matches: ['access'] },
  { route: { page: 'activity' }, label: 'Activity', matches: ['activity'] },
  { route: { page: 'webhooks' }, label: 'Webhooks', matches: ['webhooks'] },
  { route: { page: 'settings' }, label: 'Settings', matches: ['settings'] },
]

export function App() {
  const route = useRoute()
  const [theme, setTheme] = useTheme()
  const [collapsed, setCollapsed] = useState(() => localStorage.getItem('berth.sidebar') === 'collapsed')
  const toggle = () => {
    localStorage.setItem('berth.sidebar', collapsed ? 'open' : 'collapsed')
    setCollapsed(!collapsed)
  }
  return (
    <LiveProvider>
      <UndoProvider>
        {/* a hash link would change the route: the skip link moves focus instead */}
        <a
          className="skip-link"
          href="#/"
          onClick={(e) => {
            e.preventDefault()
            focusHeading()
          }}
        >
          Skip to content
        </a>
        <div className={`app${collapsed ? ' collapsed' : ''}`}>
          <button type="button" className="sidebar-toggle small" onClick={toggle} aria-expanded={!collapsed} aria-controls="sidebar">
            {collapsed ? 'Menu' : 'Hide menu'}
          </button>
          <nav className="sidebar" id="sidebar" aria-label="Main" hidden={collapsed}>
            <a className="brand" href="#/">
              <span className="brand-mark" aria-hidden="true">
                ⚓
              </span>
              Berth
            </a>
            <ul>
              {NAV.map((item) => (
                <li key={item.label}>
                  <a href={href(item.route)} aria-current={item.matches.includes(route.page) ? 'page' : undefined}>
                    {item.label}
                  </a>
                </li>
              ))}
            </ul>
            <label className="theme-picker">
              Theme
              <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
                <option value="system">System</option>
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
          </nav>
          <main className="content">
            <UndoBanner />
            <CurrentPage route={route} />
          </main>
        </div>
      </UndoProvider>
    </LiveProvider>
  )
}

function CurrentPage({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />
    case 'repositories':
      return <RepositoriesPage />
    case 'repository':
      return <RepositoryPage key={`${route.name}/${route.filter ?? ''}`} name={route.name} initialFilter={route.filter} />
    case 'manifest':
      return <ManifestPage key={`${route.repository}@${route.digest}`} repository={route.repository} digest={route.digest} />
    case 'gc':
      return <GcPage />
    case 'trust':
      return <TrustPage />
    case 'access':
      return <AccessPage />
    case 'settings':
      return <SettingsPage />
    case 'activity':
      return <ActivityPage />
    case 'webhooks':
      return <WebhooksPage />
  }
}
