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
