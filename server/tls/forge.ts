// node-forge builds certificates, which a running server seldom does (first start, renewal, a
// new client certificate). It costs about 12 MiB of memory, so it is loaded on first use.
import { createRequire } from 'node:module'
import type Forge from 'node-forge'

let loaded: typeof Forge | undefined

export function forge(): typeof Forge {
  return (loaded ??= createRequire(import.meta.url)('node-forge') as typeof Forge)
}
