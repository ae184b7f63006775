// Certificates & trust: the CA, the server certificate's names, the trust matrix (client ×
// endpoint) with install / uninstall / doctor / the exact commands, and client certificates.
import { useState } from 'react'
import type { Diagnosis, TrustMatrix } from '../../../server/admin/contract'
import { call } from '../client'
import { ActionsHeading, Badge, Card, Command, CopyButton, Dialog, download, ErrorNotice, Form, Loading, Notice, Page } from '../components'
import { ago, when } from '../format'
import { useAction, useCall } from '../hooks'

const STATE_STYLE = { installed: 'ok', outdated: 'warn', missing: 'bad' } as const

export function TrustPage() {
  return (
    <Page title="Certificates & trust">
      <AuthorityCard />
      <MatrixCard />
      <ClientCertificatesCard />
    </Page>
  )
}

function AuthorityCard() {
  const { data, error } = useCall('certificates:get', {})
  const [name, setName] = useState('')
  const action = useAction()
  const add = () =>
    action.run(async () => {
      await call('certificates:addName', { name })
      setName('')
    })
  return (
    <Card title="Berth's certificate authority">
      <ErrorNotice error={error} />
      {data && (
        <dl className="facts">
          <dt>CA fingerprint (SHA-256)</dt>
          <dd>
            <code className="fingerprint">{data.caFingerprint}</code> <CopyButton text={data.caFingerprint} />{' '}
            <button type="button" className="small" onClick={() => download('berth-ca.crt', btoa(data.caPem), 'application/x-pem-file')}>
              Download CA certificate
            </button>
          </dd>
          {data.ownCertificate && (
            <>
              <dt>Server certificate</dt>
              <dd>
                your own, from <code>{data.ownCertificate}</code> (<code>berth serve --tls-cert</code>); Berth does not renew it. Clients trust the last certificate in
                that file.
              </dd>
            </>
          )}
          <dt>CA valid until</dt>
          <dd>{when(data.caNotAfter)}</dd>
          <dt>CA may certify only</dt>
          <dd className="muted">{data.permitted}</dd>
          <dt>Server certificate names</dt>
          <dd>
            <ul className="chips">
              {data.serverNames.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
            <span className="muted small">renewed automatically; valid until {when(data.serverNotAfter)}</span>
          </dd>
        </dl>
      )}
      <Form className="inline-form" onSubmit={add}>
        <label>
          Add a name or LAN IP
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. mybox.local or 192.168.1.20" />
        </label>
        <button type="submit" disabled={!name.trim() || action.busy}>
          Add name
        </button>
      </Form>
      <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
    </Card>
  )
}

function MatrixCard() {
  const { data, error, reload } = useCall('trust:matrix', {})
  const action = useAction()
  const [commands, setCommands] = useState<{ target: string; action: 'install' | 'uninstall'; lines: string[] }>()
  const [doctor, setDoctor] = useState<{ target: string; results: Diagnosis[] }>()
  const [done, setDone] = useState<string>()

  const apply = (target: string, kind: 'install' | 'uninstall') =>
    action.run(async () => {
      setDone(undefined)
      await call(kind === 'install' ? 'trust:install' : 'trust:uninstall', { targets: [target] })
      reload()
      setDone(`${kind === 'install' ? 'Installed trust for' : 'Removed trust from'} ${label(data, target)}.`)
    })
  const show = (target: string, kind: 'install' | 'uninstall') =>
    action.run(async () => setCommands({ target, action: kind, lines: await call('trust:commands', { targets: [target], action: kind }) }))
  const check = (target: string) => action.run(async () => setDoctor({ target, results: await call('trust:doctor', { target }) }))
  const installedFor = (target: string) => data!.cells.filter((c) => c.target === target).every((c) => c.state === 'installed' || c.clientIgnores)
  const pending = data ? data.targets.filter((t) => t.applies && !installedFor(t.id)) : []
  const installAll = () =>
    action.run(async () => {
      setDone(undefined)
      await call('trust:install', { targets: pending.map((t) => t.id) })
      reload()
      setDone(`Installed trust for ${pending.map((t) => t.label).join(', ')}.`)
    })

  if (!data) return <Card title="Trust">{error ? <ErrorNotice error={error} /> : <Loading what="trust" />}</Card>
  if (data.endpoints.length === 0) {
    return (
      <Card title="Trust">
        <p className="muted">No TLS listener runs, so there is nothing to trust. Turn on TLS or mTLS in Settings.</p>
      </Card>
    )
  }
  return (
    <Card title="Trust: which clients accept Berth's certificate">
      <p className="muted">
        Each client reads trust from its own folder. Install writes Berth's CA there (and, for the mTLS endpoint, a client certificate). Rows marked “needs
        admin” ask for your password through the system.
      </p>
      {pending.length > 0 && (
        <div className="buttons">
          <button type="button" className="primary" onClick={installAll} disabled={action.busy}>
            Install for every detected client ({pending.length})
          </button>
        </div>
      )}
      {done && <Notice kind="success">{done}</Notice>}
      <ErrorNotice error={action.error} onDismiss={() => action.setError(undefined)} />
      <div className="table-scroll">
        <table className="matrix">
          <thead>
            <tr>
              <th>Client</th>
              {data.endpoints.map((e) => (
                <th key={e.address}>
                  {e.address}
                  {e.mtls && <div className="muted small">mTLS</div>}
                </th>
              ))}
              <ActionsHeading />
            </tr>
          </thead>
          <tbody>
            {data.targets.map((target) => {
              const cells = data.cells.filter((c) => c.target === target.id)
              const everywhere = cells.length === 1 && cells[0].endpoint === '*'
              const installed = installedFor(target.id)
              return (
                <tr key={target.id} data-target={target.id} className={target.applies ? undefined : 'not-here'}>
                  <th scope="row">
                    {target.label}
                    <div className="muted small">
                      {target.needsRoot ? 'needs admin' : 'your account'}
                      {!target.applies && ' · not on this system'}
                    </div>
                  </th>
                  {everywhere ? (
                    <td colSpan={data.endpoints.length} title={cells[0].location}>
                      <Badge kind={STATE_STYLE[cells[0].state]}>{cells[0].state}</Badge> <span className="muted small">every endpoint</span>
                    </td>
                  ) : (
                    data.endpoints.map((e) => {
                      const cell = cells.find((c) => c.endpoint === e.address)
                      return (
                        <td key={e.address} title={cell?.clientIgnores ?? cell?.location}>
                          {cell?.clientIgnores ? (
                            <span className="muted small">not read: docker ignores certs.d on localhost</span>
                          ) : (
                            cell && <Badge kind={STATE_STYLE[cell.state]}>{cell.state}</Badge>
                          )}
                        </td>
                      )
                    })
                  )}
                  <td className="row-actions">
                    {!target.applies ? (
                      <span className="muted small">nothing to install here</span>
                    ) : (
                      <>
                        {installed ? (
                          <button type="button" className="small" onClick={() => apply(target.id, 'uninstall')} disabled={action.busy}>
                            Uninstall
                          </button>
                        ) : (
                          <button type="button" className="small primary" onClick={() => apply(target.id, 'install')} disabled={action.busy} aria-label={`Install trust for ${target.label}`}>
                            Install
                          </button>
                        )}
                        <button type="button" className="small" onClick={() => check(target.id)} disabled={action.busy}>
                          Check
                        </button>
                        <button type="button" className="small" onClick={() => show(target.id, installed ? 'uninstall' : 'install')} disabled={action.busy}>
                          Show me the commands
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
      {commands && (
        <Dialog
          title={`${commands.action === 'install' ? 'Install' : 'Uninstall'}: ${label(data, commands.target)}`}
          onClose={() => setCommands(undefined)}
          actions={
            <button type="button" onClick={() => setCommands(undefined)}>
              Close
            </button>
          }
        >
          <p>Berth would do exactly this (the same as `berth trust {commands.action} --target {commands.target}`):</p>
          <pre className="raw">{commands.lines.join('\n')}</pre>
          <CopyButton text={`berth trust ${commands.action} --target ${commands.target}`} label="Copy the berth command" />
        </Dialog>
      )}
      {doctor && (
        <Dialog
          title={`Check: ${label(data, doctor.target)}`}
          onClose={() => setDoctor(undefined)}
          actions={
            <button type="button" onClick={() => setDoctor(undefined)}>
              Close
            </button>
          }
        >
          <p className="muted">Berth connected to each endpoint using exactly the files this client reads.</p>
          <ul className="plain doctor">
            {doctor.results.map((d) => (
              <li key={d.endpoint}>
                <Badge kind={d.ok ? 'ok' : 'bad'}>{d.ok ? 'pass' : 'fail'}</Badge> <strong>{d.endpoint}</strong> — {d.reason}
                {d.fix && (
                  <div className="muted small">
                    Fix: <code>{d.fix}</code>
                  </div>
                )}
              </li>
            ))}
          </ul>
        </Dialog>
      )}
    </Card>
  )
}

function label(matrix: TrustMatrix | undefined, target: string): string {
  return matrix?.targets.find((t) => t.id === target)?.label ?? target
}

function ClientCertificatesCard() {
  const { data, error, reload } = useCall('clients:list', {})
  const [name, setName] = useState('')
  const action = useAction()
  const [issued, setIssued] = useState<string>()
  const [revoking, setRevoking] = useState<{ serial: string; name: string }>()
  const issue = () =>
    action.run(async () => {
      const bundle = await call('clients:issue', { name: name.trim() })
      download(bundle.filename, bundle.base64)
      reload()
      setIssued(bundle.filename)
      setName('')
    })
  const revoke = (serial: string) =>
    action.run(async () => {
      await call('clients:revoke', { serial })
      setRevoking(undefined)
      reload()
    })
  return (
    <Card title="Client certificates (mTLS)">
      <p className="muted">
        A client certificate lets a machine or CI job push to the mTLS endpoint. The download is a certs.d bundle: unpack it into{' '}
        <code>/etc/docker/certs.d</code>, <code>/etc/containers/certs.d</code> or <code>~/.config/containers/certs.d</code>.
      </p>
      <Form className="inline-form" onSubmit={issue}>
        <label>
          Certificate name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ci-runner" />
        </label>
        <button type="submit" disabled={!name.trim() || action.busy}>
          Issue and download
        </button>
      </Form>
      {issued && (
        <Notice kind="success">
          Issued; saved as {issued}. Unpack it where the client reads trust (the folder names the endpoint):
          <Command label="podman, your account" command={`mkdir -p ~/.config/containers/certs.d && tar -xzf ~/Downloads/${issued} -C ~/.config/containers/certs.d`} />
          <Command label="podman as root" command={`sudo tar -xzf ~/Downloads/${issued} -C /etc/containers/certs.d`} />
          <Command label="skopeo" command={`mkdir -p certs && tar -xzf ~/Downloads/${issued} -C certs  # then --dest-cert-dir certs/HOST:PORT`} />
        </Notice>
      )}
      <ErrorNotice error={action.error ?? error} onDismiss={() => action.setError(undefined)} />
      {data && data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Serial</th>
              <th>Issued</th>
              <th>Expires</th>
              <th>State</th>
              <ActionsHeading />
            </tr>
          </thead>
          <tbody>
            {data.map((c) => (
              <tr key={c.serial} data-client={c.name}>
                <td>{c.name}</td>
                <td>
                  <code className="small">{c.serial.slice(0, 16)}</code>
                </td>
                <td>{ago(c.issuedAt)}</td>
                <td>{when(c.notAfter)}</td>
                <td>
                  <Badge kind={c.state === 'valid' ? 'ok' : 'bad'}>{c.state}</Badge>
                </td>
                <td>
                  {c.state === 'valid' && (
                    <button type="button" className="small danger" onClick={() => setRevoking({ serial: c.serial, name: c.name })} disabled={action.busy} aria-label={`Revoke ${c.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {revoking && (
        <Dialog
          title={`Revoke ${revoking.name}?`}
          onClose={() => setRevoking(undefined)}
          actions={
            <>
              <button type="button" onClick={() => setRevoking(undefined)}>
                Cancel
              </button>
              <button type="button" className="danger" onClick={() => revoke(revoking.serial)} disabled={action.busy}>
                Revoke
              </button>
            </>
          }
        >
          <p>
            Every client using the certificate <strong>{revoking.name}</strong> ({revoking.serial.slice(0, 16)}) is refused by the mTLS endpoint at once. This cannot be
            undone: issue a new certificate instead.
          </p>
        </Dialog>
      )}
    </Card>
  )
}
