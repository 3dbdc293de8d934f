/** What the schedules script's tests share: scratch folders, hashes and a folder's bytes. */
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The toy model, calibrated on 3 trajectories with 1 forced first step. */
export const toy = [
  '--models-dir',
  'src/runtime/testdata',
  '--model',
  'toy-single',
  '--samples',
  '3',
  '--forced-first',
  '1',
]

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
export const tmp = () => mkdtemp(join(tmpdir(), 'dpcache-schedules-'))

/** Every file under `dir`, by relative path, as base64: equal listings mean equal bytes. */
export async function listing(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name)
      out[p.slice(dir.length)] = (await readFile(p)).toString('base64')
    }
  }
  return out
}
