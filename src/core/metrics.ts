/**
 * Image-quality metrics for the benchmarks: PSNR and SSIM against a reference image, and the
 * Frechet distance between two sets of feature vectors (FID's formula, here on the digit
 * classifier's features). Images are single-channel [H, W] planes in [-1, 1].
 */

/** PSNR in dB on the [0, 1] scale (pixel range 2 in model units); Infinity when identical. */
export function psnr(a: Float32Array, b: Float32Array): number {
  let se = 0
  for (let k = 0; k < a.length; k++) {
    const d = (clamp(a[k]) - clamp(b[k])) / 2
    se += d * d
  }
  const mse = se / a.length
  return mse === 0 ? Infinity : -10 * Math.log10(mse)
}

const clamp = (x: number) => (x < -1 ? -1 : x > 1 ? 1 : x)

/** 11-tap Gaussian window, sigma 1.5 (Wang et al. 2004), normalised. */
const WINDOW = (() => {
  const w = Array.from({ length: 11 }, (_, k) => Math.exp(-((k - 5) ** 2) / (2 * 1.5 ** 2)))
  const s = w.reduce((a, b) => a + b, 0)
  return w.map((v) => v / s)
})()

/** Mean SSIM over valid 11x11 Gaussian windows, images mapped to [0, 1] (L = 1). */
export function ssim(a: Float32Array, b: Float32Array, height: number, width: number): number {
  const c1 = 0.01 ** 2
  const c2 = 0.03 ** 2
  const x = Float64Array.from(a, (v) => (clamp(v) + 1) / 2)
  const y = Float64Array.from(b, (v) => (clamp(v) + 1) / 2)
  let total = 0
  let count = 0
  for (let r = 0; r + 11 <= height; r++) {
    for (let c = 0; c + 11 <= width; c++) {
      let mx = 0,
        my = 0,
        xx = 0,
        yy = 0,
        xy = 0
      for (let i = 0; i < 11; i++) {
        for (let j = 0; j < 11; j++) {
          const w = WINDOW[i] * WINDOW[j]
          const p = x[(r + i) * width + c + j]
          const q = y[(r + i) * width + c + j]
          mx += w * p
          my += w * q
          xx += w * p * p
          yy += w * q * q
          xy += w * p * q
        }
      }
      const vx = xx - mx * mx
      const vy = yy - my * my
      const cov = xy - mx * my
      total += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
      count++
    }
  }
  return total / count
}

/** Mean and (unbiased) covariance of `n` row vectors of length `d`. */
export function moments(
  rows: Float32Array,
  n: number,
  d: number,
): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(d)
  for (let r = 0; r < n; r++) for (let k = 0; k < d; k++) mean[k] += rows[r * d + k] / n
  const cov = new Float64Array(d * d)
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const di = rows[r * d + i] - mean[i]
      for (let j = i; j < d; j++) cov[i * d + j] += di * (rows[r * d + j] - mean[j])
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      cov[i * d + j] /= n - 1
      cov[j * d + i] = cov[i * d + j]
    }
  }
  return { mean, cov }
}

/** Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric matrix, cyclic Jacobi. */
export function symmetricEigen(
  m: Float64Array,
  d: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = m.slice()
  const v = new Float64Array(d * d)
  for (let i = 0; i < d; i++) v[i * d + i] = 1
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) off += a[i * d + j] ** 2
    if (off < 1e-22) break
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]
        if (Math.abs(apq) < 1e-300) continue
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]
          const akq = a[k * d + q]
          a[k * d + p] = c * akp - s * akq
          a[k * d + q] = s * akp + c * akq
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]
          const aqk = a[q * d + k]
          a[p * d + k] = c * apk - s * aqk
          a[q * d + k] = s * apk + c * aqk
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]
          const vkq = v[k * d + q]
          v[k * d + p] = c * vkp - s * vkq
          v[k * d + q] = s * vkp + c * vkq
        }
      }
    }
  }
  return { values: Float64Array.from({ length: d }, (_, i) => a[i * d + i]), vectors: v }
}

/**
 * Frechet distance between Gaussians fitted to two feature sets:
 * |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)), with the trace term computed as
 * sum sqrt(eig(S1^(1/2) S2 S1^(1/2))), a symmetric PSD matrix with the same spectrum.
 */
export function frechetDistance(
  a: { mean: Float64Array; cov: Float64Array },
  b: { mean: Float64Array; cov: Float64Array },
): number {
  const d = a.mean.length
  let meanTerm = 0
  for (let k = 0; k < d; k++) meanTerm += (a.mean[k] - b.mean[k]) ** 2
  const { values, vectors } = symmetricEigen(a.cov, d)
  // S1^(1/2) = V diag(sqrt(max(l, 0))) V^T
  const root = new Float64Array(d * d)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0
      for (let k = 0; k < d; k++)
        s += vectors[i * d + k] * Math.sqrt(Math.max(values[k], 0)) * vectors[j * d + k]
      root[i * d + j] = s
    }
  }
  const inner = mul(mul(root, b.cov, d), root, d)
  const traceRoot = symmetricEigen(symmetrize(inner, d), d).values.reduce(
    (s, l) => s + Math.sqrt(Math.max(l, 0)),
    0,
  )
  let tr = 0
  for (let k = 0; k < d; k++) tr += a.cov[k * d + k] + b.cov[k * d + k]
  return meanTerm + tr - 2 * traceRoot
}

function mul(x: Float64Array, y: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d)
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const xik = x[i * d + k]
      if (xik === 0) continue
      for (let j = 0; j < d; j++) out[i * d + j] += xik * y[k * d + j]
    }
  }
  return out
}

function symmetrize(m: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d)
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) out[i * d + j] = (m[i * d + j] + m[j * d + i]) / 2
  return out
}
