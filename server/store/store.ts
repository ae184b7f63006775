// The store: SQLite metadata plus content-addressed files under one data dir.
import { access, chmod, constants, mkdir, stat } from 'node:fs/promises'
import type Database from 'better-sqlite3'
import { BlobStore } from './blobs'
import { Retention } from '../gc/retention'
import { Webhooks } from '../webhooks/webhooks'
import { Deletions } from './deletions'
import { openDatabase } from './database'
import { EventLog } from './events'
import { fsck, type FsckReport } from './fsck'
import { StoreLayout } from './layout'
import { ManifestStore } from './manifests'
import { recoverStore, type RecoveryReport } from './recovery'
import { Repositories } from './repositories'
import { UploadStore } from './uploads'

export class DataDirError extends Error {}

export class Store {
  private constructor(
    readonly layout: StoreLayout,
    readonly db: Database.Database,
    readonly blobs: BlobStore,
    readonly uploads: UploadStore,
    readonly manifests: ManifestStore,
    readonly events: EventLog,
    readonly deletions: Deletions,
    readonly retention: Retention,
    readonly webhooks: Webhooks,
    readonly recovery: RecoveryReport,
  ) {}

  /** Opens (creating if needed) the store in `dataDir` and recovers from any interrupted write. */
  static async open(dataDir: string): Promise<Store> {
    const layout = new StoreLayout(dataDir)
    await prepareDataDir(layout)
    let db: Database.Database
    try {
      db = openDatabase(layout.databasePath)
    } catch (error) {
      throw new DataDirError(`cannot open ${layout.databasePath}: ${(error as Error).message}`)
    }
    const repositories = new Repositories(db)
    const blobs = new BlobStore(db, layout, repositories)
    const uploads = new UploadStore(db, layout, blobs)
    const manifests = new ManifestStore(db, repositories)
    const recovery = await recoverStore(db, layout, blobs)
    const events = new EventLog(db)
    const deletions = new Deletions(db, repositories)
    const webhooks = new Webhooks(db)
    return new Store(layout, db, blobs, uploads, manifests, events, deletions, new Retention(db, deletions, events, webhooks), webhooks, recovery)
  }

  fsck(options: { repair?: boolean } = {}): Promise<FsckReport> {
    this.events.flush()
    return fsck(this.db, this.layout, { ...options, inFlight: () => this.uploads.inFlight() })
  }

  close(): void {
    this.events.flush()
    this.db.close()
  }
}

/**
 * Creates the data dir's folders owner-only and checks that they can be written. A data dir that
 * others may read is tightened to 0700 when this user owns it, else `warn` says so.
 */
export async function prepareDataDir(layout: StoreLayout, warn: (line: string) => void = () => {}): Promise<void> {
  const existing = await stat(layout.root).catch(() => undefined)
  if (existing && !existing.isDirectory()) throw new DataDirError(`data dir ${layout.root} is a file, not a folder: choose another --data-dir`)
  try {
    for (const dir of [layout.root, layout.blobsDir, layout.uploadsDir]) {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK)
    }
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    const reason = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'ENOTDIR' ? 'a part of its path is a file' : e.message
    throw new DataDirError(`data dir ${layout.root} is not usable: ${reason}`)
  }
  const { mode, uid } = await stat(layout.root)
  if ((mode & 0o077) === 0) return
  if (uid === process.getuid?.()) {
    await chmod(layout.root, 0o700)
    warn(`berth: ${layout.root} was readable by others (mode ${(mode & 0o777).toString(8)}); it is now 0700`)
  } else {
    warn(`berth: warning: ${layout.root} is readable by others (mode ${(mode & 0o777).toString(8)}) and owned by another user`)
  }
}
