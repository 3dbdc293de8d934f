/** Scores a set of generated images against references, the requested classes and real digits. */
import { frechetDistance, moments, psnr, ssim } from '../../src/core/metrics.ts'
import type { Classifier } from '../../src/runtime/classifier.ts'

export interface Scores {
  psnr: number
  ssim: number
  accuracy: number
  frechet: number
}

export type FeatureMoments = ReturnType<typeof moments>

export async function featureMoments(clf: Classifier, images: Float32Array, count: number) {
  const out = await clf.classify(images, count)
  return { moments: moments(out.features, count, out.featureDim), predicted: out.predicted }
}

export async function score(
  clf: Classifier,
  images: readonly Float32Array[],
  references: readonly Float32Array[] | null,
  classes: readonly number[],
  real: FeatureMoments,
  side: number,
): Promise<Scores> {
  const flat = new Float32Array(images.length * images[0].length)
  images.forEach((im, k) => flat.set(im, k * im.length))
  const { moments: gen, predicted } = await featureMoments(clf, flat, images.length)
  let p = 0
  let s = 0
  if (references) {
    images.forEach((im, k) => {
      p += Math.min(psnr(im, references[k]), 100) // identical images count as 100 dB, not Infinity
      s += ssim(im, references[k], side, side)
    })
  }
  return {
    psnr: references ? p / images.length : NaN,
    ssim: references ? s / images.length : NaN,
    accuracy: predicted.filter((c, k) => c === classes[k]).length / images.length,
    frechet: frechetDistance(gen, real),
  }
}
