// Blob bodies, from the file straight to the socket through a few reused buffers. A read stream
// allocates a fresh 1 MiB buffer for every read; in a process with Berth's heap the garbage
// collector then took a quarter of a big pull's CPU (`npm run bench`, profiled). Here each
// transfer reads into one buffer while the other is being written, and a buffer is read into
// again only once the socket has taken all of it (the write's callback).
import { open } from 'node:fs/promises'
import type { FastifyReply } from 'fastify'

const CHUNK = 1 << 20
/** buffers kept between transfers: two transfers' worth; more at once allocate their own */
const POOLED = 4
const pool: Buffer[] = []

const take = () => pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK)
const give = (buffer: Buffer) => {
  if (pool.length < POOLED) pool.push(buffer)
}

/**
 * Sends `length` bytes of the file from `start` as the reply's body, with the status and headers
 * already set on the reply. The file is opened first, so a missing one still gets the route's
 * error answer; after that, a failure cuts the connection, as any truncated body would.
 */
export async function sendFileRange(reply: FastifyReply, path: string, start: number, length: number): Promise<void> {
  const file = await open(path, 'r')
  reply.hijack()
  const response = reply.raw
  response.writeHead(reply.statusCode, reply.getHeaders() as Record<string, string | number>)
  const buffers = [take(), take()]
  // resolves when the socket has taken that buffer's last write (or the client has gone)
  const written: Promise<void>[] = [Promise.resolve(), Promise.resolve()]
  let gone = false
  const onClose = () => (gone = true)
  response.once('close', onClose)
  const whenWritten = (chunk: Buffer) =>
    new Promise<void>((resolve) => {
      const done = () => {
        response.off('close', done)
        resolve()
      }
      response.once('close', done)
      response.write(chunk, done)
    })
  try {
    let position = start
    let left = length
    for (let i = 0; left > 0 && !gone; i ^= 1) {
      await written[i]
      if (gone) break
      const { bytesRead: bytes } = await file.read(buffers[i], 0, Math.min(CHUNK, left), position)
      if (bytes === 0) throw new Error(`${path} ended ${left} bytes early`)
      position += bytes
      left -= bytes
      written[i] = whenWritten(bytes === CHUNK ? buffers[i] : buffers[i].subarray(0, bytes))
    }
    await Promise.all(written)
    if (!gone) {
      response.end()
      // only whole, finished transfers give their buffers back: a cut one's may still sit in a
      // dead socket's queue
      buffers.forEach(give)
    }
  } catch (error) {
    response.destroy(error as Error)
  } finally {
    response.off('close', onClose)
    await file.close().catch(() => {})
  }
}
