// What is inside a layer, as `dive` shows it: the tar's entries with their sizes, read from the
// stored blob as a stream (gunzipped when it starts with gzip's magic; nothing is written).
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { extract } from 'tar-stream'
import { parseDigest } from '../store/references'
import type { Store } from '../store/store'
import type { LayerFilesView } from './contract'

/** Listing stops here; the totals still count every entry. */
const MAX_ENTRIES = 5000

const TYPES: Record<string, LayerFilesView['entries'][number]['type']> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
}

export async function layerFiles(store: Store, repository: string, digestText: string): Promise<LayerFilesView> {
  const digest = parseDigest(digestText)
  if (!digest) throw new Error(`${JSON.stringify(digestText)} is not a digest`)
  if (!store.blobs.statInRepository(repository, digest)) throw new Error(`layer ${digestText} is not in ${repository}`)
  const view: LayerFilesView = { entries: [], totalEntries: 0, totalBytes: 0, truncated: false, whiteouts: 0 }
  const entries = extract()
  entries.on('entry', (header, body, next) => {
    view.totalEntries++
    const size = header.size ?? 0
    view.totalBytes += size
    const path = header.name.replace(/^\.\//, '').replace(/\/$/, '')
    // .wh.NAME deletes NAME from the layers below (the OCI layer format)
    if (/(^|\/)\.wh\.[^/]*$/.test(path)) view.whiteouts++
    if (view.entries.length < MAX_ENTRIES) {
      view.entries.push({ path, size, type: TYPES[header.type ?? 'file'] ?? 'other', ...(header.linkname ? { linkTarget: header.linkname } : {}) })
    } else view.truncated = true
    body.on('end', next)
    body.resume()
  })
  try {
    const gzipped = await startsWithGzipMagic(store.blobs.openRead(digest, { start: 0, end: 1 }))
    await (gzipped ? pipeline(store.blobs.openRead(digest), createGunzip(), entries) : pipeline(store.blobs.openRead(digest), entries))
  } catch (e) {
    throw new Error(`layer ${digestText} is not a tar archive Berth can read (${(e as Error).message})`)
  }
  return view
}

async function startsWithGzipMagic(head: AsyncIterable<Buffer>): Promise<boolean> {
  const bytes: number[] = []
  for await (const chunk of head) bytes.push(...chunk)
  return bytes[0] === 0x1f && bytes[1] === 0x8b
}
