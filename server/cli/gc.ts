// berth gc, berth delete, berth undo, berth deletions
import { resolveDataDir } from '../config'
import { operate } from './operate'
import { formatBytes, out, parseFlags, UsageError, type Command } from './usage'

export const gcCommand: Command = {
  name: 'gc',
  summary: 'garbage collection: free what nothing kept references',
  help: `usage: berth gc [--data-dir DIR] [--dry-run] [--untagged] [--json]

Mark and sweep, online: pushes and pulls go on while it runs (a running server does the work).
  --dry-run    report exactly what a real run would remove, remove nothing
  --untagged   a manifest that lost its last tag is garbage unless something kept reaches it
               (without it, such a manifest is kept: it can still be pulled by digest)
  --json       {"manifests":N,"blobs":N,"bytes":N,"uploads":N,"repositories":N}

blobs counts config and layer blobs (not manifests); bytes is the disk space freed, manifests
included. After a run, deletions of what it removed can no longer be undone. The retention
rules (berth retention) run first.`,

  async run(argv) {
    const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, 'dry-run': { type: 'boolean' }, untagged: { type: 'boolean' }, json: { type: 'boolean' } })
    if (values.help) return out(this.help), 0
    const result = await operate(resolveDataDir(values['data-dir']), 'gc', { dryRun: values['dry-run'], untagged: values.untagged })
    const { manifests, blobs, bytes, uploads, repositories } = result
    if (values.json) out(JSON.stringify({ manifests, blobs, bytes, uploads, repositories }))
    else {
      const verb = result.dryRun ? 'would remove' : 'removed'
      if (result.retainedAway) out(`berth: the retention rules ${result.dryRun ? 'would remove' : 'removed'} ${result.retainedAway} tags first (\`berth retention preview\` lists them)`)
      out(`berth: gc ${verb} ${manifests} manifests, ${blobs} blobs, ${uploads} stale uploads and ${repositories} empty repositories, freeing ${formatBytes(bytes)}`)
    }
    return 0
  },
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete a tag, a manifest or a repository (undoable until the next gc)',
  help: `usage: berth delete REPOSITORY:TAG | REPOSITORY@DIGEST | REPOSITORY [--data-dir DIR] [--json]
       berth delete REPOSITORY:TAG|REPOSITORY@DIGEST ... (several of one repository)

REPOSITORY:TAG removes the tag; REPOSITORY@DIGEST removes the manifest and its tags;
REPOSITORY removes every image in it. Several tags and digests of one repository are one
deletion, undone together. The bytes stay until \`berth gc\`; until then \`berth undo\`
restores what was deleted.`,

  async run(argv) {
    const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } }, true)
    if (values.help) return out(this.help), 0
    if (positionals.length === 0) throw new UsageError('berth delete takes a reference: REPOSITORY:TAG, REPOSITORY@DIGEST or REPOSITORY')
    const dataDir = resolveDataDir(values['data-dir'])
    const record =
      positionals.length === 1 ? await operate(dataDir, 'delete', { reference: positionals[0] }) : await operate(dataDir, 'delete.many', { references: positionals })
    const what = positionals.length === 1 ? positionals[0] : `${record.reference} of ${record.repository}`
    if (values.json) out(JSON.stringify(record))
    else out(`berth: deleted ${what} (deletion ${record.id}; \`berth undo ${record.id}\` restores it until the next gc)`)
    return 0
  },
}

export const undoCommand: Command = {
  name: 'undo',
  summary: 'restore a deletion (the latest by default)',
  help: `usage: berth undo [ID] [--data-dir DIR]

Restores what \`berth delete\` (or the GUI) removed, for as long as garbage collection has not
removed the content. \`berth deletions\` lists them.`,

  async run(argv) {
    const { values, positionals } = parseFlags(argv, { 'data-dir': { type: 'string' } }, true)
    if (values.help) return out(this.help), 0
    const id = positionals[0] === undefined ? undefined : Number(positionals[0])
    if (id !== undefined && !Number.isInteger(id)) throw new UsageError(`not a deletion id: ${positionals[0]}`)
    const record = await operate(resolveDataDir(values['data-dir']), 'undo', { id })
    out(`berth: restored ${record.repository}${record.kind === 'tag' ? `:${record.reference}` : record.kind === 'manifest' ? `@${record.reference}` : ''} (deletion ${record.id})`)
    return 0
  },
}

export const deletionsCommand: Command = {
  name: 'deletions',
  summary: 'list recent deletions: undoable, undone, or made permanent by gc',
  help: 'usage: berth deletions [--data-dir DIR] [--json]',
  async run(argv) {
    const { values } = parseFlags(argv, { 'data-dir': { type: 'string' }, json: { type: 'boolean' } })
    if (values.help) return out(this.help), 0
    const list = await operate(resolveDataDir(values['data-dir']), 'deletions', {})
    if (values.json) out(JSON.stringify(list, null, 2))
    else for (const d of list) out(`${String(d.id).padStart(4)}  ${new Date(d.at).toISOString()}  ${d.kind.padEnd(10)} ${d.repository}${d.reference ? ` ${d.reference}` : ''}  (${d.state})`)
    return 0
  },
}
