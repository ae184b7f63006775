// The ceiling for big blobs: the least a Node server can do that keeps Berth's crash contract,
// in a process of its own like the registries. PUT /blob/NAME hashes every chunk with SHA-256,
// writes it at its offset with positional fs.writeSync, fsyncs and closes the file, and answers
// the digest; GET /blob/NAME streams the file with a 1 MiB read stream. Plain HTTP, or TLS with
// BASELINE_CERT and BASELINE_KEY. Prints its URL, then serves until killed.
import { createHash } from 'node:crypto'
import { closeSync, createReadStream, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { join } from 'node:path'

const dir = process.argv[2]
const serve = (request, response) => {
  const path = join(dir, (request.url ?? '').replace(/^\/blob\//, '').replace(/[^\w.-]/g, '_'))
  if (request.method === 'PUT') {
    const hash = createHash('sha256')
    const fd = openSync(path, 'w', 0o600)
    let offset = 0
    request.on('data', (chunk) => {
      hash.update(chunk)
      offset += writeSync(fd, chunk, 0, chunk.length, offset)
    })
    request.on('end', () => {
      fsyncSync(fd)
      closeSync(fd)
      response.writeHead(201, { 'Docker-Content-Digest': `sha256:${hash.digest('hex')}`, 'Content-Length': 0 }).end()
    })
  } else {
    response.writeHead(200, { 'Content-Length': statSync(path).size, 'Content-Type': 'application/octet-stream' })
    createReadStream(path, { highWaterMark: 1 << 20 }).pipe(response)
  }
}
const server = process.env.BASELINE_CERT
  ? createHttpsServer({ cert: readFileSync(process.env.BASELINE_CERT), key: readFileSync(process.env.BASELINE_KEY) }, serve)
  : createHttpServer(serve)
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address()
  process.stdout.write(`${process.env.BASELINE_CERT ? 'https' : 'http'}://127.0.0.1:${port}\n`)
})
