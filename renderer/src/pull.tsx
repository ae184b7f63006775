// "Copy pull": the command for docker, podman or skopeo, by tag or by digest, for the endpoint
// that works with the trust installed now (the server picks it, see PullOption).
import type { PullOption } from '../../server/admin/contract'
import { CopyButton } from './components'

export function pullCommand(option: PullOption, repository: string, reference: { tag?: string | null; digest?: string }): string {
  const ref = reference.tag ? `${repository}:${reference.tag}` : `${repository}@${reference.digest}`
  const base = repository.split('/').pop()!
  const file = `${base}-${reference.tag ?? reference.digest?.split(':')[1]?.slice(0, 12) ?? 'image'}.tar`
  return option.template.replaceAll('{ref}', ref).replaceAll('{file}', file)
}

/** A menu of pull commands for one manifest (and its tag, when it has one). */
export function PullButton({ options, repository, tag, digest }: { options: PullOption[]; repository: string; tag: string | null; digest: string }) {
  if (options.length === 0) return null
  const forms: { label: string; reference: { tag?: string; digest?: string } }[] = [
    ...(tag ? [{ label: 'by tag', reference: { tag } }] : []),
    { label: 'by digest', reference: { digest } },
  ]
  return (
    <details className="menu">
      <summary className="small-button">Copy pull</summary>
      <div className="menu-panel" role="group" aria-label={`Pull commands for ${tag ?? digest}`}>
        {options.map((option) => (
          <div key={option.client} className="menu-section">
            <div className="menu-heading">
              {option.client} <span className="muted small">· {option.note}</span>
            </div>
            {forms.map((form) => {
              const command = pullCommand(option, repository, form.reference)
              return (
                <div key={form.label} className="menu-item">
                  <code>{command}</code>
                  <CopyButton text={command} label={`Copy ${form.label}`} />
                </div>
              )
            })}
          </div>
        ))}
      </div>
    </details>
  )
}
