// What this machine can do at best, measured in the same run as the registries: single-core
// SHA-256 (openssl speed), an fsync'd sequential write, and loopback TCP throughput.
import { execFileSync } from 'node:child_process'
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { join } from 'node:path'

const MiB = 1 << 20

/** Single-core SHA-256 in MiB/s, from `openssl speed -evp sha256` at its largest block size. */
export function sha256Ceiling(seconds = 2): number {
  const output = execFileSync('openssl', ['speed', '-evp', 'sha256', '-seconds', String(seconds), '-bytes', String(MiB)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  // the last line: "sha256   <k bytes/s for each block size>" ending with e.g. 1712345.67k
  const line = output.trim().split('\n').pop()!
  const kilobytes = Number(/([\d.]+)k\s*$/.exec(line)?.[1])
  if (!kilobytes) throw new Error(`cannot read openssl speed output: ${line}`)
  return (kilobytes * 1000) / MiB
}

/** Writes `bytes` in 4 MiB blocks, fsyncs, and returns MiB/s. */
export function fsyncWriteCeiling(dir: string, bytes: number): number {
  const path = join(dir, 'ceiling.bin')
  const block = Buffer.alloc(4 * MiB, 7)
  const started = performance.now()
  const fd = openSync(path, 'w')
  try {
    for (let written = 0; written < bytes; written += block.length) writeSync(fd, block)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  const seconds = (performance.now() - started) / 1000
  rmSync(path, { force: true })
  return bytes / MiB / seconds
}

/** Sends `bytes` over a loopback TCP connection between two sockets of this process; MiB/s. */
export async function loopbackCeiling(bytes: number): Promise<number> {
  const block = Buffer.alloc(4 * MiB, 1)
  return new Promise((resolve, reject) => {
    let received = 0
    let started = 0
    const server = createServer((socket) => {
      socket.on('data', (chunk) => {
        received += chunk.length
        if (received >= bytes) {
          resolve(bytes / MiB / ((performance.now() - started) / 1000))
          socket.destroy()
          server.close()
        }
      })
    })
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      const socket = createConnection(port, '127.0.0.1', () => {
        started = performance.now()
        let sent = 0
        const pump = () => {
          while (sent < bytes) {
            sent += block.length
            if (!socket.write(block)) return socket.once('drain', pump)
          }
          socket.end()
        }
        pump()
      })
      socket.on('error', () => {})
    })
    server.on('error', reject)
  })
}
