/** Reading a cost tensor calibrated elsewhere (`npm run schedules -- --import-pact`). */
import { readFile } from 'node:fs/promises'
import { parseNpy } from '../../src/core/npy.ts'
import type { Pact } from '../../src/core/pact.ts'
import { UsageError, type ScheduleArgs } from './schedule-args.ts'

const read = async (p: string) => new Uint8Array(await readFile(p))

/**
 * A tensor calibrated elsewhere: `.npy`, or raw little-endian float64 (`.f64`) described by a
 * `.json` beside it (`shape`, `dtype`, `source`), the form the paper's release is kept in here.
 */
export async function readTensor(
  path: string,
  n: number,
  origin: NonNullable<ScheduleArgs['origin']>,
): Promise<Pact> {
  let shape: number[]
  let data: Float64Array
  if (path.endsWith('.f64')) {
    const side = JSON.parse(await readFile(path.replace(/\.f64$/, '.json'), 'utf8')) as {
      shape?: number[]
      dtype?: string
      source?: string
    }
    if (side.dtype !== 'float64-le' || !Array.isArray(side.shape))
      throw new UsageError(`${path}: its .json must give shape and dtype float64-le`)
    const bytes = await read(path)
    data = new Float64Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    )
    shape = side.shape
    origin.source ??= side.source
  } else {
    const npy = parseNpy(await read(path))
    shape = [...npy.shape]
    data = Float64Array.from(npy.data)
  }
  if (shape.join() !== [n, n + 1, n + 1].join() || data.length !== n * (n + 1) * (n + 1)) {
    throw new UsageError(
      `--import-pact: shape (${shape}) is not [${n}, ${n + 1}, ${n + 1}] for --steps ${n}`,
    )
  }
  return { steps: n, data }
}
