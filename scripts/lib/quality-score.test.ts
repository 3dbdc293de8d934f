import { describe, expect, it } from 'vitest'
import { scoreImages } from './quality-score.ts'

describe('quality scores', () => {
  it('per-image PSNR capped at 100 dB, mean SSIM, no classifier scores without one', async () => {
    const ref = Float32Array.from({ length: 256 }, (_, k) => (k % 7) / 7)
    const off = ref.map((v) => v + 0.1)
    const s = await scoreImages([ref, off], [ref, ref], [0, 1], 16)
    expect(s.psnrs[0]).toBe(100)
    // 0.1 in model units is 0.05 on the [0, 1] scale PSNR uses: MSE 0.0025
    expect(s.psnrs[1]).toBeCloseTo(26.0206, 3)
    expect(s.ssim).toBeLessThan(1)
    expect(s.ssim).toBeGreaterThan(0.5)
    expect(s).toMatchObject({ accuracy: null, frechet: null })
  })
})
