// berth webhook: endpoints that receive push, pull and delete events in distribution's format.
import { resolveDataDir } from '../config'
import { WEBHOOK_ACTIONS, type WebhookAction } from '../webhooks/webhooks'
import { operate } from './operate'
import { out, parseFlags, UsageError, type Command } from './usage'

export const webhookCommand: Command = {
  name: 'webhook',
  summary: 'send push, pull and delete events to URLs (distribution notifications)',
  help: `usage:
  berth webhook add NAME URL [--header K:V ...] [--actions push,pull,delete] [--timeout S]
                    [--threshold N] [--backoff S] [--ignore-media-type TYPE ...]
  berth webhook list [--json]
  berth webhook remove NAME
  berth webhook test NAME                 sends a test event now and prints the answer
  berth webhook deliveries NAME [--json]  the delivery log: event, attempt, status, time

Events are POSTed one per request as {"events":[...]} with Content-Type
application/vnd.docker.distribution.events.v1+json, as CNCF distribution sends them. They wait
in the data dir until delivered, in order per endpoint (a restart loses none; a receiver sees an
event twice at most after a crash, with the same id). A failed delivery is retried after
--backoff (default 1 s); after --threshold failures in a row (default 3) the wait doubles, up to
5 minutes. --timeout (default 5 s) cuts a receiver that does not answer. All take --data-dir DIR.`,

  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        'data-dir': { type: 'string' },
        header: { type: 'string', multiple: true },
        actions: { type: 'string' },
        timeout: { type: 'string' },
        threshold: { type: 'string' },
        backoff: { type: 'string' },
        'ignore-media-type': { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
      true,
    )
    const [action, name, url] = positionals
    if (values.help || action === undefined) return out(this.help), action === undefined && !values.help ? 2 : 0
    const dataDir = resolveDataDir(values['data-dir'])
    const needName = () => {
      if (!name) throw new UsageError(`berth webhook ${action} NAME: the name is missing`)
    }
    switch (action) {
      case 'add': {
        needName()
        if (!url) throw new UsageError('berth webhook add NAME URL: the URL is missing')
        const hook = await operate(dataDir, 'webhook.add', {
          name,
          url,
          headers: parseHeaders(values.header ?? []),
          actions: values.actions === undefined ? undefined : parseActions(values.actions),
          ignoredMediaTypes: values['ignore-media-type'],
          timeoutMs: seconds(values.timeout, '--timeout'),
          threshold: values.threshold === undefined ? undefined : wholeNumber(values.threshold, '--threshold'),
          backoffMs: seconds(values.backoff, '--backoff'),
        })
        out(`berth: webhook ${hook.name} → ${hook.url} (${hook.actions.join(', ')}); \`berth webhook test ${hook.name}\` sends a test event`)
        return 0
      }
      case 'list': {
        const hooks = await operate(dataDir, 'webhook.list', {})
        if (values.json) out(JSON.stringify(hooks, null, 2))
        else if (hooks.length === 0) out('berth: no webhooks')
        else for (const h of hooks) out(`${h.name.padEnd(16)} ${h.url}  ${h.actions.join(',')}  timeout ${h.timeoutMs / 1000}s  ${h.pending} waiting`)
        return 0
      }
      case 'remove': {
        needName()
        if (!(await operate(dataDir, 'webhook.remove', { name })).removed) return process.stderr.write(`berth webhook: no webhook named ${name}\n`), 1
        out(`berth: removed webhook ${name} (and the events waiting for it)`)
        return 0
      }
      case 'test': {
        needName()
        const result = await operate(dataDir, 'webhook.test', { name })
        const ok = result.status !== null && result.status >= 200 && result.status < 300
        if (values.json) out(JSON.stringify(result))
        else out(`berth: webhook ${name}: ${ok ? `delivered (${result.status})` : `failed: ${result.error}`} in ${Math.round(result.ms)} ms`)
        return ok ? 0 : 1
      }
      case 'deliveries': {
        needName()
        const deliveries = await operate(dataDir, 'webhook.deliveries', { name })
        if (values.json) out(JSON.stringify(deliveries, null, 2))
        else if (deliveries.length === 0) out(`berth: no deliveries to ${name} yet`)
        else {
          for (const d of deliveries) {
            out(`${new Date(d.at).toISOString()}  ${d.action.padEnd(6)} ${d.eventId}  attempt ${d.attempt}  ${d.status ?? '---'}  ${d.error ?? 'ok'}  ${d.ms} ms`)
          }
        }
        return 0
      }
      default:
        throw new UsageError(`unknown webhook action ${JSON.stringify(action)} (add, list, remove, test, deliveries)`)
    }
  },
}

function parseHeaders(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw new UsageError(`--header takes NAME:VALUE, not ${JSON.stringify(line)}`)
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim()
  }
  return headers
}

function parseActions(text: string): WebhookAction[] {
  const actions = text.split(',').map((a) => a.trim())
  const unknown = actions.find((a) => !WEBHOOK_ACTIONS.includes(a as WebhookAction))
  if (unknown !== undefined) throw new UsageError(`--actions takes push, pull and delete, not ${JSON.stringify(unknown)}`)
  return actions as WebhookAction[]
}

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text.replace(/s$/, ''))
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} takes seconds, not ${JSON.stringify(text)}`)
  return value * 1000
}

function wholeNumber(text: string, flag: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} takes a whole number, not ${JSON.stringify(text)}`)
  return value
}
