/** How the quality bench scores a method's images against the full-step ones of the same seeds. */
import { frechetDistance, moments, ssim } from '../../src/core/metrics.ts'
import type { Classifier } from '../../src/runtime/classifier.ts'
import { psnrs } from './quality-methods.ts'

export type FeatureMoments = ReturnType<typeof moments>

/** Classifier features of generated or real images: their moments (for Frechet) and predicted classes. */
export async function featureMoments(clf: Classifier, images: Float32Array, count: number) {
  const out = await clf.classify(images, count)
  return { moments: moments(out.features, count, out.featureDim), predicted: out.predicted }
}

export interface ImageScores {
  /** per image, capped at 100 dB (an identical image) */
  psnrs: number[]
  /** mean over the images */
  ssim: number
  /** share of images the classifier puts in their requested class; null without one */
  accuracy: number | null
  /** Frechet distance of the classifier features to the real images'; null without them */
  frechet: number | null
}

/** Scores square `side` x `side` images against `refs`; `classes[k]` is image k's requested class. */
export async function scoreImages(
  images: readonly Float32Array[],
  refs: readonly Float32Array[],
  classes: readonly number[],
  side: number,
  judge?: { clf: Classifier; real: FeatureMoments },
): Promise<ImageScores> {
  const scores = {
    psnrs: psnrs(images, refs),
    ssim: images.reduce((s, im, k) => s + ssim(im, refs[k], side, side), 0) / images.length,
  }
  if (!judge) return { ...scores, accuracy: null, frechet: null }
  const flat = new Float32Array(images.length * images[0].length)
  images.forEach((im, k) => flat.set(im, k * im.length))
  const fm = await featureMoments(judge.clf, flat, images.length)
  return {
    ...scores,
    accuracy: fm.predicted.filter((c, k) => c === classes[k]).length / images.length,
    frechet: frechetDistance(fm.moments, judge.real),
  }
}
