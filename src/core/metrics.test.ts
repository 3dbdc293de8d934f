import { describe, expect, it } from 'vitest'
import { frechetDistance, moments, psnr, ssim, symmetricEigen } from './metrics.ts'
import { Rng } from './rng.ts'

describe('psnr / ssim', () => {
  const rng = new Rng(3)
  const img = Float32Array.from({ length: 28 * 28 }, () => rng.uniform() * 2 - 1)
  it('identical images: PSNR Infinity, SSIM 1', () => {
    expect(psnr(img, img)).toBe(Infinity)
    expect(ssim(img, img, 28, 28)).toBeCloseTo(1, 10)
  })
  it('PSNR of a uniform offset matches the formula', () => {
    // offset 0.2 in [-1, 1] units is 0.1 on the [0, 1] scale: 20 dB
    const shifted = img.map((v) => Math.max(-1, Math.min(1, v)) * 0.5 + 0.2)
    const base = img.map((v) => v * 0.5)
    expect(psnr(base, shifted)).toBeCloseTo(20, 4)
  })
  it('SSIM drops with noise and is symmetric', () => {
    const noisy = img.map((v) => v + 0.3 * (rng.uniform() - 0.5))
    const s = ssim(img, noisy, 28, 28)
    expect(s).toBeLessThan(0.99)
    expect(s).toBeGreaterThan(0.5)
    expect(ssim(noisy, img, 28, 28)).toBeCloseTo(s, 10)
  })
})

describe('frechetDistance', () => {
  it('eigen-decomposes a symmetric matrix', () => {
    const m = Float64Array.of(4, 1, 0, 1, 3, 1, 0, 1, 2)
    const { values, vectors } = symmetricEigen(m, 3)
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 3; i++) {
        let mv = 0
        for (let j = 0; j < 3; j++) mv += m[i * 3 + j] * vectors[j * 3 + k]
        expect(mv).toBeCloseTo(values[k] * vectors[i * 3 + k], 9)
      }
    }
  })
  it('is zero for the same set and matches the closed form for diagonal Gaussians', () => {
    const rng = new Rng(9)
    const rows = Float32Array.from({ length: 500 * 4 }, () => rng.normal())
    const m = moments(rows, 500, 4)
    expect(frechetDistance(m, m)).toBeCloseTo(0, 6)
    // diagonal: sum (mu1 - mu2)^2 + (s1 - s2)^2 per dimension
    const a = { mean: Float64Array.of(0, 1), cov: Float64Array.of(4, 0, 0, 1) }
    const b = { mean: Float64Array.of(1, 1), cov: Float64Array.of(1, 0, 0, 9) }
    expect(frechetDistance(a, b)).toBeCloseTo(1 + (2 - 1) ** 2 + (1 - 3) ** 2, 9)
  })
})
