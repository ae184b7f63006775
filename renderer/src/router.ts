// Hash routes: the same build works from file:// (desktop app) and from / (headless).
import { useEffect, useState } from 'react'

export type Route =
  | { page: 'overview' }
  | { page: 'repositories' }
  | { page: 'repository'; name: string; filter?: string }
  | { page: 'manifest'; repository: string; digest: string }
  | { page: 'gc' }
  | { page: 'trust' }
  | { page: 'access' }
  | { page: 'settings' }
  | { page: 'activity' }
  | { page: 'webhooks' }

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
  if (parts[0] === 'repositories' && parts.length === 4 && parts[2] === 'manifests') return { page: 'manifest', repository: parts[1], digest: parts[3] }
  if (parts[0] === 'repositories' && parts.length === 4 && parts[2] === 'tags') return { page: 'repository', name: parts[1], filter: parts[3] }
  if (parts[0] === 'repositories' && parts.length === 2) return { page: 'repository', name: parts[1] }
  if (parts[0] === 'repositories') return { page: 'repositories' }
  if (parts[0] === 'gc' || parts[0] === 'trust' || parts[0] === 'access' || parts[0] === 'settings' || parts[0] === 'activity' || parts[0] === 'webhooks') return { page: parts[0] }
  return { page: 'overview' }
}

export function href(route: Route): string {
  switch (route.page) {
    case 'overview':
      return '#/'
    case 'repository':
      return `#/repositories/${encodeURIComponent(route.name)}${route.filter ? `/tags/${encodeURIComponent(route.filter)}` : ''}`
    case 'manifest':
      return `#/repositories/${encodeURIComponent(route.repository)}/manifests/${encodeURIComponent(route.digest)}`
    default:
      return `#/${route.page}`
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route)
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash))
    window.addEventListener('hashchange', update)
    return () => window.removeEventListener('hashchange', update)
  }, [])
  return route
}
