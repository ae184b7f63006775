// A client certificate as a certs.d bundle: HOST:PORT/{ca.crt,client.cert,client.key} in a
// .tar.gz, to unpack into /etc/docker/certs.d, /etc/containers/certs.d or ~/.config/containers/certs.d.
import { gzipSync } from 'node:zlib'
import { pack } from 'tar-stream'

export async function certsDirBundle(folder: string, files: { name: string; content: string; mode: number }[]): Promise<Buffer> {
  const archive = pack()
  const chunks: Buffer[] = []
  archive.on('data', (chunk) => chunks.push(chunk as Buffer))
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve)
    archive.on('error', reject)
  })
  const mtime = new Date()
  archive.entry({ name: `${folder}/`, type: 'directory', mode: 0o755, mtime })
  for (const file of files) archive.entry({ name: `${folder}/${file.name}`, mode: file.mode, mtime }, file.content)
  archive.finalize()
  await ended
  return gzipSync(Buffer.concat(chunks))
}
