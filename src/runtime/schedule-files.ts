/**
 * `ScheduleStore` over a directory (`schedules/` in the repository), for the Node and Deno
 * hosts. Paths are built by `readerScheduleStore` from validated ids only; the resolved path
 * is checked against the root once more so a future change there cannot open a way out.
 */
import { readFile } from 'node:fs/promises'
import { resolve, sep } from 'node:path'
import type { ScheduleStore } from '../core/schedule.ts'
import { readerScheduleStore } from './schedule-store.ts'

/** Reads `<root>/index.json` and `<root>/<model>/<steps>.json`. */
export function fileScheduleStore(root: string): ScheduleStore {
  const base = resolve(root)
  return readerScheduleStore(async (relativePath) => {
    const path = resolve(base, relativePath)
    if (!path.startsWith(base + sep)) throw new Error(`refusing to read outside ${base}`)
    try {
      return await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  })
}
