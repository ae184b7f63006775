// Whether a build output is older than its sources, by modification time.
import { readdirSync, statSync } from 'node:fs'

/** The newest modification time under each path (files, or folders walked whole). */
export function newestMtime(...paths) {
  return Math.max(
    0,
    ...paths.map((path) => {
      const stat = statSync(path)
      if (!stat.isDirectory()) return stat.mtimeMs
      return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newestMtime(`${path}/${entry}`)))
    }),
  )
}
