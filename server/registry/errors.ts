// Every error the registry API can answer, declared once with its HTTP status.
// Handlers throw `new OciError('NAME', detail)`; the error handler in app.ts writes
// the spec's body `{"errors":[{code,message,detail}]}`. No call site picks a status.

interface ErrorSpec {
  status: number
  message: string
  /** the OCI code written on the wire when it differs from the table key */
  code?: string
}

export const ociErrors = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 404, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  // Variants of spec codes that need another status.
  RANGE_INVALID: { status: 416, code: 'BLOB_UPLOAD_INVALID', message: 'requested range not satisfiable' },
  MANIFEST_TOO_LARGE: { status: 413, code: 'SIZE_INVALID', message: 'manifest exceeds the size limit' },
  ROUTE_UNKNOWN: { status: 404, code: 'UNSUPPORTED', message: 'no such registry API route' },
  BAD_REQUEST: { status: 400, code: 'UNSUPPORTED', message: 'malformed request' },
  METHOD_UNKNOWN: { status: 405, code: 'UNSUPPORTED', message: 'method not allowed on this route' },
  INTERNAL: { status: 500, code: 'UNKNOWN', message: 'internal error' },
  STORE_FULL: { status: 507, code: 'UNKNOWN', message: "the registry's disk is full: free space (berth gc, or delete images) and retry" },
  STORE_BUSY: { status: 503, code: 'UNAVAILABLE', message: "the registry's database is busy: retry in a moment" },
  FOREIGN_HOST: { status: 403, code: 'DENIED', message: 'this registry does not answer to that host name' },
  CROSS_SITE: { status: 403, code: 'DENIED', message: 'requests from web pages are refused' },
  TOO_MANY_CONNECTIONS: { status: 429, code: 'TOOMANYREQUESTS', message: 'too many connections from this address' },
} satisfies Record<string, ErrorSpec>

export type OciErrorName = keyof typeof ociErrors

export class OciError extends Error {
  readonly status: number
  readonly code: string
  /** extra response headers, e.g. Range on a 416 */
  headers: Record<string, string> = {}
  /** for refusals worth showing in the activity log: why (see admin/activity.ts) */
  failure?: string
  /** a message more precise than the table's, for refusals clients print as they are */
  private specificMessage?: string

  constructor(
    readonly errorName: OciErrorName,
    readonly detail?: unknown,
  ) {
    const spec: ErrorSpec = ociErrors[errorName]
    super(typeof detail === 'string' ? detail : spec.message)
    this.status = spec.status
    this.code = spec.code ?? errorName
  }

  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers)
    return this
  }

  /** Replaces the table's message in the body: clients print `code: message` to the user. */
  withMessage(message: string): this {
    this.specificMessage = message
    return this
  }

  /** Marks a refusal for the activity log with the reason a person can act on. */
  because(failure: string): this {
    this.failure = failure
    return this
  }

  toBody(): { errors: { code: string; message: string; detail?: unknown }[] } {
    const spec: ErrorSpec = ociErrors[this.errorName]
    return { errors: [{ code: this.code, message: this.specificMessage ?? spec.message, detail: this.detail ?? null }] }
  }
}
