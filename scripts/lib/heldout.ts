/** The 1,000 held-out real digits (models/mnist-heldout.*) that no training run saw. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface HeldOut {
  count: number
  labels: number[]
  /** [count, 784] in [-1, 1], decoded exactly as the manifest describes */
  images: Float32Array
}

export async function loadHeldOut(modelsDir: string): Promise<HeldOut> {
  const meta = JSON.parse(await readFile(join(modelsDir, 'mnist-heldout.json'), 'utf8'))
  const bytes = await readFile(join(modelsDir, meta.file))
  if (bytes.length !== meta.bytes)
    throw new Error(`${meta.file}: ${bytes.length} bytes, manifest says ${meta.bytes}`)
  const images = Float32Array.from(bytes, (k) => 2 * (Math.round((k / 255) * 1000) / 1000) - 1)
  return { count: meta.count, labels: meta.labels, images }
}
