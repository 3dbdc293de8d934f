/**
 * Model manifests (`models/<id>/manifest.json`): the contract a graph set must follow to be
 * served. Any model that follows it works, not just the demo: a user's own exported DiT as
 * trunk + head, or as a single graph (then its output is forecast instead of trunk features).
 */
import { hexDigest } from '../core/digest.ts'
import { z } from 'zod'
import { ModelError } from './ort.ts'

const tensorSpec = z.object({
  name: z.string().min(1),
  dtype: z.enum(['float32', 'int64']),
  shape: z.array(z.union([z.number().int().positive(), z.string().min(1)])),
})

export const graphSchema = z.object({
  file: z
    .string()
    .regex(/^[A-Za-z0-9._-]+\.onnx$/, 'graph files are plain .onnx names inside the model folder'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  inputs: z.array(tensorSpec).min(1),
  outputs: z.array(tensorSpec).min(1),
})

const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  image: z.object({
    channels: z.number().int().positive(),
    height: z.number().int().positive(),
    width: z.number().int().positive(),
    range: z.tuple([z.number(), z.number()]),
  }),
  classes: z.number().int().positive(),
  nullClass: z.number().int().nonnegative(),
  sigma: z
    .object({ convention: z.literal('rectified-flow'), shift: z.number().positive() })
    .loose(),
  defaultGuidance: z.number().positive(),
  defaultSteps: z.number().int().positive(),
}

export const manifestSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('trunk-head'),
      graphs: z.object({ trunk: graphSchema, head: graphSchema }),
      ...common,
    })
    .loose(),
  z
    .object({ kind: z.literal('single'), graphs: z.object({ model: graphSchema }), ...common })
    .loose(),
])

export type Manifest = z.infer<typeof manifestSchema>
export type GraphEntry = z.infer<typeof graphSchema>

export function parseManifest(value: unknown, where: string): Manifest {
  const r = manifestSchema.safeParse(value)
  if (!r.success) {
    const msg = r.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ')
    throw new ModelError(`${where}: invalid manifest: ${msg}`)
  }
  return r.data
}

/** Reads a graph file and refuses it unless its hash is the manifest's. */
export async function readVerifiedGraph(
  readFile: (path: string) => Promise<Uint8Array>,
  dir: string,
  modelId: string,
  entry: GraphEntry,
): Promise<Uint8Array> {
  const bytes = await readFile(`${dir}/${entry.file}`)
  const actual = await hexDigest('SHA-256', bytes)
  if (actual !== entry.sha256) {
    throw new ModelError(
      `${modelId}/${entry.file}: sha256 ${actual} does not match the manifest's ${entry.sha256}; the file was changed or is truncated`,
    )
  }
  return bytes
}

/**
 * The weights a schedule was calibrated on: sha256 over the graph hashes (in name order), so a
 * retrained model invalidates its old schedules.
 */
export async function modelFingerprint(m: Manifest): Promise<string> {
  const lines = Object.entries(m.graphs as Record<string, GraphEntry>)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, g]) => `${name}:${g.sha256}\n`)
    .join('')
  return hexDigest('SHA-256', lines)
}
