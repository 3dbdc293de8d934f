/** Classifier features of generated or real images: their moments (for Frechet) and predicted classes. */
import { moments } from '../../src/core/metrics.ts'
import type { Classifier } from '../../src/runtime/classifier.ts'

export type FeatureMoments = ReturnType<typeof moments>

export async function featureMoments(clf: Classifier, images: Float32Array, count: number) {
  const out = await clf.classify(images, count)
  return { moments: moments(out.features, count, out.featureDim), predicted: out.predicted }
}
