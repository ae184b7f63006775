// Domain errors of the store. Only the HTTP edge maps them to OCI codes.

export type StoreErrorKind =
  | 'blob-unknown'
  | 'upload-unknown'
  | 'upload-busy'
  | 'upload-range'
  | 'upload-size'
  | 'digest-mismatch'
  | 'manifest-unknown'
  | 'manifest-invalid'
  | 'manifest-blob-unknown'
  | 'name-unknown'

export class StoreError extends Error {
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    /** for upload-range: the bytes the session holds, so the edge can answer with Range */
    readonly uploadedSize?: number,
  ) {
    super(message)
  }
}

/** SQLite could not take its lock in time: another process (or a long transaction) holds it. */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/** The disk (or the user's quota) is full: SQLite's SQLITE_FULL, or ENOSPC / EDQUOT from a file write. */
export function isDiskFullError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT')
}

/**
 * Runs a short database write, retrying while the database is busy, with the waits off the
 * event loop (the busy timeout itself is short, so no request blocks the loop for long).
 */
export async function retryWhileBusy<T>(work: () => T, options: { attempts?: number; firstDelayMs?: number } = {}): Promise<T> {
  const attempts = options.attempts ?? 8
  let delay = options.firstDelayMs ?? 25
  for (let attempt = 1; ; attempt++) {
    try {
      return work()
    } catch (error) {
      if (!isBusyError(error) || attempt >= attempts) throw error
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 1000)
    }
  }
}
