/**
 * Statistics for bench:quality over per-image PSNRs (one per held-out seed): the mean and its
 * standard error, the paired difference to a reference method with its standard error (same
 * seeds, so the seed-to-seed spread cancels), the share of seeds the reference wins, and the
 * pooled PSNR (PSNR of the mean MSE, which a few easy images cannot inflate).
 */

export interface Summary {
  mean: number
  se: number
  pooled: number
}

export interface Paired {
  /** mean of reference - other */
  diff: number
  se: number
  /** share of seeds where the reference is strictly better */
  wins: number
}

const meanOf = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length

/** Standard error of the mean (sample standard deviation / sqrt(n)); 0 for one value. */
export function standardError(v: readonly number[]): number {
  if (v.length < 2) return 0
  const m = meanOf(v)
  const ss = v.reduce((s, x) => s + (x - m) ** 2, 0)
  return Math.sqrt(ss / (v.length - 1) / v.length)
}

export function summarise(psnrs: readonly number[]): Summary {
  const mse = meanOf(psnrs.map((p) => 10 ** (-p / 10)))
  return { mean: meanOf(psnrs), se: standardError(psnrs), pooled: -10 * Math.log10(mse) }
}

export function paired(reference: readonly number[], other: readonly number[]): Paired {
  if (reference.length !== other.length)
    throw new RangeError(
      `paired statistics need equal lengths, got ${reference.length} and ${other.length}`,
    )
  const d = reference.map((r, k) => r - other[k])
  return { diff: meanOf(d), se: standardError(d), wins: d.filter((x) => x > 0).length / d.length }
}
