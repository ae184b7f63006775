// The core without listeners: store, PKI and users on one data dir. The server wraps it with
// listeners; CLI commands open it directly when no server runs.
import { AccessRules, Groups } from './auth/rules'
import { RobotTokens, TokenSigner } from './auth/tokens'
import { Users } from './auth/users'
import { mkdirSync } from 'node:fs'
import { closeControl, listenControl, type ControlHandler } from './control'
import { GarbageCollector } from './gc/collector'
import { StoreLayout } from './store/layout'
import { prepareDataDir, Store } from './store/store'
import { Pki } from './tls/pki'

export interface Core {
  dataDir: string
  store: Store
  users: Users
  groups: Groups
  rules: AccessRules
  robots: RobotTokens
  /** the key that signs registry tokens, created on first use */
  tokenSigner(): TokenSigner
  gc: GarbageCollector
  /** The PKI, created on first use: commands that need no certificate (gc, fsck) never make keys. */
  pki(): Promise<Pki>
  close(): void
}

export async function openCore(dataDir: string, options: { hostNames?: string[] } = {}): Promise<Core> {
  const store = await Store.open(dataDir)
  let pki: Promise<Pki> | undefined
  let signer: TokenSigner | undefined
  return {
    dataDir,
    store,
    users: new Users(store.db),
    groups: new Groups(store.db),
    rules: new AccessRules(store.db),
    robots: new RobotTokens(store.db),
    tokenSigner: () => (signer ??= (mkdirSync(store.layout.pkiDir, { recursive: true, mode: 0o700 }), TokenSigner.open(store.layout.pkiDir))),
    gc: new GarbageCollector(store),
    pki: () => (pki ??= Pki.open(store.layout.pkiDir, store.db, options.hostNames)),
    close: () => store.close(),
  }
}

/**
 * Runs `work` on the data dir with no server on it: takes the data dir's lock (so a server
 * cannot start meanwhile), opens the core, and closes both afterwards.
 */
export async function withOfflineCore<T>(dataDir: string, work: (core: Core) => Promise<T>): Promise<T> {
  const layout = new StoreLayout(dataDir)
  await prepareDataDir(layout, (line) => process.stderr.write(`${line}\n`))
  const busy: ControlHandler = async () => {
    throw new Error('a berth command is working on this data dir; try again in a moment')
  }
  const lock = await listenControl(layout, busy)
  try {
    const core = await openCore(dataDir)
    try {
      return await work(core)
    } finally {
      core.close()
    }
  } finally {
    await closeControl(lock, layout)
  }
}
