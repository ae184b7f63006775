// The one place that knows where things live under the data dir.
import { join } from 'node:path'
import type { Digest } from './references'

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function isValidUploadId(id: string): boolean {
  return UPLOAD_ID.test(id)
}

export class StoreLayout {
  constructor(readonly root: string) {}

  get databasePath(): string {
    return join(this.root, 'berth.db')
  }

  get blobsDir(): string {
    return join(this.root, 'blobs')
  }

  get uploadsDir(): string {
    return join(this.root, 'uploads')
  }

  get pkiDir(): string {
    return join(this.root, 'pki')
  }

  /** Unix socket on which a running server answers the CLI; also the data dir's lock. */
  get controlSocketPath(): string {
    return join(this.root, 'control.sock')
  }

  blobDir(digest: Digest): string {
    return join(this.blobsDir, digest.algorithm, digest.hex.slice(0, 2))
  }

  blobPath(digest: Digest): string {
    return join(this.blobDir(digest), digest.hex)
  }

  uploadPath(id: string): string {
    if (!isValidUploadId(id)) throw new Error(`not an upload id: ${id}`)
    return join(this.uploadsDir, id)
  }
}
