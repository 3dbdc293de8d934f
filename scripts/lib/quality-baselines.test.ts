import { describe, expect, it } from 'vitest'
import { Rng } from '../../src/core/rng.ts'
import {
  EasyCachePolicy,
  lemicaPath,
  magcacheDelta,
  magcacheMask,
  magnitudeRatios,
  taylorseerKeys,
} from './quality-baselines.ts'

const t = (data: number[]) => ({ data: Float32Array.from(data), dims: [data.length] })

describe('taylorseer keys', () => {
  it('computes the first W steps, then exactly K keys at an even interval', () => {
    expect(taylorseerKeys(50, 10, 3)).toEqual([0, 1, 2, 3, 9, 16, 23, 29, 36, 43])
    expect(taylorseerKeys(20, 4, 1)).toEqual([0, 1, 7, 13])
    expect(() => taylorseerKeys(20, 4, 5)).toThrow(/warm-up/)
  })
})

describe('magcache', () => {
  it('ratios are the mean per-token norm ratio', () => {
    // two tokens of hidden size 2; token 0 doubles, token 1 halves: mean ratio (2 + 0.5) / 2
    const traj = [Float32Array.from([1, 0, 0, 2]), Float32Array.from([2, 0, 0, 1])]
    expect(Array.from(magnitudeRatios([traj], 2))).toEqual([1, 1.25])
  })

  it('skips up to maxSkip steps while the accumulated error stays within delta', () => {
    const flat = new Float64Array(12).fill(1) // no error ever: only maxSkip limits
    expect(magcacheMask(flat, { retain: 2, maxSkip: 3, delta: 0.1 })).toBe('110001000100')
    // ratio 0.9 per step: errors 0.1, then 0.1 + 0.19; delta 0.15 allows one skip at a time
    const decay = new Float64Array(8).fill(0.9)
    expect(magcacheMask(decay, { retain: 1, maxSkip: 5, delta: 0.15 })).toBe('10101010')
    expect(magcacheMask(decay, { retain: 1, maxSkip: 5, delta: 0 })).toBe('11111111')
  })

  it('bisection finds a delta for K keys, or the nearest count below, or says none fits', () => {
    const gamma = Float64Array.from({ length: 50 }, (_, k) =>
      k === 0 ? 1 : 0.97 + 0.002 * (k % 7),
    )
    const keysOf = (delta: number) =>
      [...magcacheMask(gamma, { retain: 2, maxSkip: 8, delta })].filter((c) => c === '1').length
    let exact = 0
    for (let k = 9; k <= 30; k++) {
      const r = magcacheDelta(gamma, k, 2, 8)!
      expect(keysOf(r.delta)).toBe(r.keys)
      expect(r.keys).toBeLessThanOrEqual(k)
      if (r.keys === k) exact++
    }
    expect(exact).toBeGreaterThan(10)
    expect(magcacheDelta(gamma, 3, 2, 4)).toBeNull() // maxSkip 4 forces at least 10 keys
  })
})

describe('easycache', () => {
  it('computes during warm-up, then accumulates k * |dx| / |out| and computes past tau', () => {
    const p = new EasyCachePolicy(0.45, 2)
    p.reset()
    // inputs move by 0.1 a step; outputs at the two warm-up steps move by 0.2: k = 2
    expect(p.shouldCompute(0, t([1, 1]))).toBe(true)
    p.observe(0, t([1, 1]), t([1, 1]))
    expect(p.shouldCompute(1, t([1.1, 1.1]))).toBe(true)
    p.observe(1, t([1.1, 1.1]), t([1.2, 1.2]))
    // step 2: acc = 2 * 0.1 / 1.2 = 0.167 < 0.45: skip; step 3: 0.333: skip; step 4: 0.5 > 0.45: compute
    expect(p.shouldCompute(2, t([1.2, 1.2]))).toBe(false)
    expect(p.shouldCompute(3, t([1.3, 1.3]))).toBe(false)
    expect(p.shouldCompute(4, t([1.4, 1.4]))).toBe(true)
    p.observe(4, t([1.4, 1.4]), t([1.5, 1.5]))
    // new rate from steps 1 -> 4: |0.3| / |0.3| = 1; the sum restarted
    expect(p.shouldCompute(5, t([1.5, 1.5]))).toBe(false) // 0.1 / 1.5
    const always = new EasyCachePolicy(0, 2)
    always.reset()
    for (let i = 0; i < 5; i++) {
      expect(always.shouldCompute(i, t([i, i]))).toBe(true)
      always.observe(i, t([i, i]), t([2 * i + 1, 1]))
    }
  })
})

describe('lemica', () => {
  it('the DP finds the lexicographically smallest sorted edge-weight vector (brute force)', () => {
    for (let trial = 0; trial < 8; trial++) {
      const rng = new Rng(300 + trial)
      const steps = 7 + (trial % 3)
      const w = new Map<string, number>()
      for (let i = 0; i < steps; i++)
        for (let j = i + 1; j <= steps; j++)
          w.set(`${i},${j}`, j - i > 4 ? Infinity : Math.round(rng.uniform() * 20))
      const weight = (i: number, j: number) => w.get(`${i},${j}`)!
      const vec = (keys: number[]) =>
        keys
          .map((i, m) => weight(i, m + 1 < keys.length ? keys[m + 1] : steps))
          .sort((a, b) => b - a)
      for (let budget = 2; budget <= 5; budget++) {
        let best: number[] | null = null
        const grow = (keys: number[]) => {
          if (keys.length === budget) {
            const v = vec(keys)
            if (
              v.every(Number.isFinite) &&
              (!best || v.join() !== best.join()) &&
              (!best || v.findIndex((x, k) => x !== best![k]) >= 0)
            ) {
              const k = best ? v.findIndex((x, q) => x !== best![q]) : -1
              if (!best || v[k] < best[k]) best = v
            }
            return
          }
          for (let n = keys[keys.length - 1] + 1; n < steps; n++) grow([...keys, n])
        }
        grow([0])
        const got = lemicaPath(steps, budget, weight)
        if (best === null) expect(got).toBeNull()
        else {
          expect(got!.length).toBe(budget)
          expect(vec(got!)).toEqual(best)
        }
      }
    }
  })
})
