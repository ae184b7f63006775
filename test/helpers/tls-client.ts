// HTTPS requests with an explicit CA and optional client certificate (fetch cannot take them).
import { request } from 'node:https'

export interface TlsRequest {
  url: string
  method?: string
  ca: string | Buffer
  cert?: string | Buffer
  key?: string | Buffer
  headers?: Record<string, string>
  body?: Buffer | string
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'
  /** the name the certificate is checked against, when the Host header says something else */
  servername?: string
}

export interface TlsResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export function tlsRequest(options: TlsRequest): Promise<TlsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      options.url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        headers: { ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
        minVersion: options.minVersion,
        maxVersion: options.maxVersion,
        agent: false,
        ...(options.servername ? { servername: options.servername, checkServerIdentity: () => undefined } : {}),
      },
      (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

export function basic(name: string, password: string): string {
  return `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`
}
