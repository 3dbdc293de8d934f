import { describe, expect, it } from 'vitest'
import { TaylorForecaster } from './taylor.ts'

/** A vector-valued polynomial of degree `deg`: element k is sum_m c[k][m] x^m. */
function poly(deg: number, size: number) {
  const coef = Array.from({ length: size }, (_, k) =>
    Array.from({ length: deg + 1 }, (_, m) => Math.sin(3 * k + m + 1)),
  )
  return (x: number) => Float32Array.from(coef, (c) => c.reduce((s, a, m) => s + a * x ** m, 0))
}

describe('TaylorForecaster', () => {
  const uneven = [0, 1, 2, 4, 7, 11, 16]
  for (const order of [0, 1, 2, 3]) {
    it(`order ${order} is exact on degree <= ${order} polynomials at uneven positions`, () => {
      for (let deg = 0; deg <= order; deg++) {
        const f = poly(deg, 8)
        const fc = new TaylorForecaster(order, 8)
        for (const p of uneven) fc.update(p, f(p))
        for (const x of [17, 19.5, 25]) {
          const got = fc.predict(x)
          const want = f(x)
          for (let k = 0; k < 8; k++) expect(got[k]).toBeCloseTo(want[k], 2 - Math.min(deg, 2))
        }
      }
    })
  }

  it('is not exact one degree above its order (the test can fail)', () => {
    const f = poly(2, 4)
    const fc = new TaylorForecaster(1, 4)
    for (const p of [0, 3, 4]) fc.update(p, f(p))
    const err = Math.max(...fc.predict(9).map((v, k) => Math.abs(v - f(9)[k])))
    expect(err).toBeGreaterThan(1e-2)
  })

  it('uses the real gaps, not the last gap: order 1 through (2, 5) and (5, 6) differ', () => {
    const f = (x: number) => Float32Array.of(x * x)
    const fc = new TaylorForecaster(2, 1)
    fc.update(2, f(2))
    fc.update(5, f(5))
    fc.update(6, f(6))
    // the interpolating parabola through 4, 25, 36 is x^2 itself
    expect(fc.predict(10)[0]).toBeCloseTo(100, 4)
  })

  it('drops order while anchors are few, and never takes a forecast as an anchor', () => {
    const fc = new TaylorForecaster(2, 1)
    fc.update(0, Float32Array.of(3))
    expect(fc.effectiveOrder).toBe(0)
    expect(fc.predict(5)[0]).toBe(3)
    fc.update(2, Float32Array.of(7))
    expect(fc.effectiveOrder).toBe(1)
    expect(fc.predict(3)[0]).toBeCloseTo(9, 6)
    fc.predict(4) // forecasting must not change state
    expect(fc.predict(3)[0]).toBeCloseTo(9, 6)
    expect(fc.anchors).toBe(2)
  })

  it('rejects non-increasing positions, wrong sizes and bad orders', () => {
    const fc = new TaylorForecaster(1, 2)
    fc.update(3, new Float32Array(2))
    expect(() => fc.update(3, new Float32Array(2))).toThrow(/increase/)
    expect(() => fc.update(4, new Float32Array(3))).toThrow(/expects 2/)
    expect(() => new TaylorForecaster(4, 2)).toThrow(/order/)
    expect(() => new TaylorForecaster(1, 2).predict(1)).toThrow(/no anchors/)
  })

  it('reset forgets anchors', () => {
    const fc = new TaylorForecaster(1, 1)
    fc.update(0, Float32Array.of(1))
    fc.update(1, Float32Array.of(2))
    fc.reset()
    fc.update(5, Float32Array.of(10))
    expect(fc.predict(9)[0]).toBe(10)
  })
})
