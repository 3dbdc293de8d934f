/**
 * A disk cache for bench:quality's expensive arrays (calibration trajectories, full-step
 * references, LeMiCa edge weights): reruns of the bench skip the model calls they already
 * made. Entries are keyed by everything that changes them (model fingerprint, steps,
 * guidance, shift, seeds), so a stale entry cannot be read for another setup.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from './atomic.ts'

/** Named groups of float arrays, e.g. { features: [sample][step], images: [[...]] }. */
export type ArrayGroups = Record<string, Float32Array[][]>

export async function cached<T extends ArrayGroups>(
  dir: string,
  key: object,
  compute: () => Promise<T>,
): Promise<T> {
  const name = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 24)
  const meta = join(dir, `${name}.json`)
  const body = join(dir, `${name}.f32`)
  try {
    const shape = JSON.parse(await readFile(meta, 'utf8')) as {
      key: object
      groups: Record<string, number[][]>
    }
    const bytes = await readFile(body)
    const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
    let at = 0
    const out: ArrayGroups = {}
    for (const [g, lists] of Object.entries(shape.groups)) {
      out[g] = lists.map((lens) =>
        lens.map((n) => {
          const a = all.slice(at, at + n)
          at += n
          return a
        }),
      )
    }
    if (at === all.length) return out as T
  } catch {
    // absent or unreadable: compute it
  }
  const value = await compute()
  const groups: Record<string, number[][]> = {}
  let total = 0
  for (const [g, lists] of Object.entries(value)) {
    groups[g] = lists.map((l) => l.map((a) => a.length))
    total += groups[g].flat().reduce((s, n) => s + n, 0)
  }
  const flat = new Float32Array(total)
  let at = 0
  for (const lists of Object.values(value))
    for (const l of lists) for (const a of l) (flat.set(a, at), (at += a.length))
  await mkdir(dir, { recursive: true })
  await writeFileAtomic(body, new Uint8Array(flat.buffer))
  await writeFileAtomic(meta, JSON.stringify({ key, groups }))
  return value
}
