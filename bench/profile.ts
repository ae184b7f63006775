// Reads V8 CPU profiles (.cpuprofile, from `node --cpu-prof`, or BERTH_BENCH_PROFILE=DIR with the
// benches) and prints where the time went: self time by function and by package, the largest
// first. `node --import tsx bench/profile.ts FILE... [--top N]`
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** which package or part a script belongs to: node_modules/<name>, node:internal, or Berth's own file */
function owner(url: string): string {
  if (!url) return '(native or V8)'
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (module) return module[1]
  if (url.startsWith('node:')) return 'node'
  const own = /\/(server|out)\/(.*)$/.exec(url)
  return own ? `berth ${own[2]}` : url
}

export function selfTimes(files: string[]): { byFunction: Map<string, number>; byOwner: Map<string, number>; total: number } {
  const byFunction = new Map<string, number>()
  const byOwner = new Map<string, number>()
  let total = 0
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
    profile.samples.forEach((id, i) => {
      const micros = profile.timeDeltas[i] ?? 0
      const { functionName, url, lineNumber } = nodes.get(id)!.callFrame
      if (functionName === '(idle)') return
      const name = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|server|out)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim()
      byFunction.set(name, (byFunction.get(name) ?? 0) + micros)
      const who = ['(garbage collector)', '(program)'].includes(functionName) ? functionName : owner(url)
      byOwner.set(who, (byOwner.get(who) ?? 0) + micros)
      total += micros
    })
  }
  return { byFunction, byOwner, total }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const topAt = args.indexOf('--top')
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25
  const { byFunction, byOwner, total } = selfTimes(args)
  const print = (title: string, map: Map<string, number>) => {
    console.log(`${title} (busy ${(total / 1e6).toFixed(2)} s)`)
    for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((micros / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
  }
  print('self time by package', byOwner)
  console.log('')
  print('self time by function', byFunction)
}
