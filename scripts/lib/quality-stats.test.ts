import { describe, expect, it } from 'vitest'
import { paired, standardError, summarise } from './quality-stats.ts'

describe('quality statistics', () => {
  it('standard error is the sample standard deviation over sqrt(n)', () => {
    // values 1..5: mean 3, sample variance 2.5, se = sqrt(2.5 / 5)
    expect(standardError([1, 2, 3, 4, 5])).toBeCloseTo(Math.sqrt(0.5), 12)
    expect(standardError([7])).toBe(0)
  })

  it('pooled PSNR is the PSNR of the mean MSE, never above the per-image mean', () => {
    const s = summarise([10, 30])
    expect(s.mean).toBe(20)
    expect(s.pooled).toBeCloseTo(-10 * Math.log10((0.1 + 0.001) / 2), 12)
    expect(s.pooled).toBeLessThan(s.mean)
    expect(summarise([25, 25]).pooled).toBeCloseTo(25, 12)
  })

  it('paired differences cancel a shared per-seed offset', () => {
    const base = [20, 35, 28, 41]
    const other = base.map((x, k) => x - 1 - 0.1 * k)
    const p = paired(base, other)
    expect(p.diff).toBeCloseTo(1.15, 12)
    expect(p.se).toBeCloseTo(standardError([1, 1.1, 1.2, 1.3]), 12)
    expect(p.wins).toBe(1)
    expect(paired([1, 2], [2, 1]).wins).toBe(0.5)
    expect(() => paired([1], [1, 2])).toThrow(/equal lengths/)
  })
})
