/**
 * The digit classifier the benchmarks score images with: logits for class accuracy and
 * penultimate features for the Frechet distance (models/mnist-classifier).
 */
import { z } from 'zod'
import { graphSchema, readVerifiedGraph } from './manifest.ts'
import { createGraphSession, ModelError, type OrtOptions } from './ort.ts'

const classifierManifest = z
  .object({
    id: z.string(),
    kind: z.literal('classifier'),
    graphs: z.object({ classifier: graphSchema }),
    classes: z.number().int().positive(),
  })
  .loose()

export interface Classification {
  logits: Float32Array
  features: Float32Array
  featureDim: number
  /** argmax of each row's logits */
  predicted: number[]
}

export interface Classifier {
  readonly id: string
  classify(images: Float32Array, count: number): Promise<Classification>
}

export async function loadClassifier(
  dir: string,
  readFile: (path: string) => Promise<Uint8Array>,
  ort: OrtOptions = {},
): Promise<Classifier> {
  const parsed = classifierManifest.safeParse(
    JSON.parse(new TextDecoder().decode(await readFile(`${dir}/manifest.json`))),
  )
  if (!parsed.success)
    throw new ModelError(`${dir}/manifest.json: not a classifier manifest: ${parsed.error.message}`)
  const m = parsed.data
  const g = m.graphs.classifier
  const session = await createGraphSession(
    await readVerifiedGraph(readFile, dir, m.id, g),
    `${m.id}/classifier`,
    g.inputs,
    ort,
  )
  const [input] = g.inputs
  const dims = input.shape.slice(1) as number[]
  const row = dims.reduce((a, b) => a * b, 1)
  return {
    id: m.id,
    async classify(images, count) {
      if (images.length !== count * row)
        throw new ModelError(`${m.id}: expected ${count} images of ${row} values`)
      const out = await session.run({ [input.name]: { data: images, dims: [count, ...dims] } })
      const logits = out[g.outputs[0].name]
      const features = out[g.outputs[1].name]
      const classes = logits.dims[1]
      const predicted = Array.from({ length: count }, (_, r) => {
        let best = 0
        for (let c = 1; c < classes; c++)
          if (logits.data[r * classes + c] > logits.data[r * classes + best]) best = c
        return best
      })
      return {
        logits: logits.data,
        features: features.data,
        featureDim: features.dims[1],
        predicted,
      }
    },
  }
}
