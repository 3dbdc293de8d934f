import { describe, expect, it } from 'vitest'
import { StaticMaskPolicy, TeaCachePolicy, uniformKeys, uniformMask } from './policy.ts'
import { gaussianNoise } from './rng.ts'
import { sample, SampleAbortedError, type Denoiser } from './sampler.ts'
import { flowEuler } from './solver.ts'
import type { Tensor } from './tensor.ts'

/**
 * A small analytic trunk/head pair with row-independent, non-linear maths: enough to check
 * the loop's bookkeeping (the ONNX model is exercised in src/runtime).
 */
class AnalyticDenoiser implements Denoiser {
  readonly imageDims = [1, 2, 3]
  readonly featureDims = [4]
  readonly nullClass = 10
  trunkCalls = 0
  trunkRows: number[] = []
  async trunk(x: Tensor, sigma: number, labels: Int32Array): Promise<Tensor> {
    this.trunkCalls++
    this.trunkRows.push(x.dims[0])
    const rows = x.dims[0]
    const out = new Float32Array(rows * 4)
    for (let r = 0; r < rows; r++) {
      for (let f = 0; f < 4; f++) {
        let s = sigma * (f + 1) + 0.1 * labels[r]
        for (let k = 0; k < 6; k++) s += Math.sin(k + f) * x.data[r * 6 + k]
        out[r * 4 + f] = Math.tanh(s)
      }
    }
    return { data: out, dims: [rows, 4] }
  }
  async head(h: Tensor, x: Tensor, sigma: number): Promise<Tensor> {
    const rows = h.dims[0]
    const v = new Float32Array(rows * 6)
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < 6; k++)
        v[r * 6 + k] = x.data[r * 6 + k] * 0.3 + h.data[r * 4 + (k % 4)] * (1 + sigma)
    }
    return { data: v, dims: [rows, 1, 2, 3] }
  }
}

const base = { steps: 12, classes: [3], seeds: [5], guidance: 1, order: 1 }

describe('sample', () => {
  it('with a full budget equals plain Euler exactly', async () => {
    const d = new AnalyticDenoiser()
    const res = await sample(d, flowEuler, {
      ...base,
      policy: new StaticMaskPolicy('1'.repeat(12)),
    })
    // plain Euler, written out by hand
    const sig = flowEuler.sigmas(12)
    let x: Tensor = { data: gaussianNoise(5, 6), dims: [1, 1, 2, 3] }
    const labels = Int32Array.of(3)
    for (let i = 0; i < 12; i++) {
      const v = await d.head(await d.trunk(x, sig[i], labels), x, sig[i])
      x = flowEuler.step(x, v, i, sig)
    }
    expect(Array.from(res.images.data)).toEqual(Array.from(x.data))
    expect(res.nfe).toBe(12)
  })

  it('runs the trunk exactly at the key steps: NFE equals K', async () => {
    for (const k of [2, 4, 7]) {
      const d = new AnalyticDenoiser()
      const res = await sample(d, flowEuler, {
        ...base,
        policy: new StaticMaskPolicy(uniformMask(12, k)),
      })
      expect(d.trunkCalls).toBe(k)
      expect(res.nfe).toBe(k)
      expect(res.keySteps).toEqual(uniformKeys(12, k))
    }
  })

  it('forecasting changes the result, and a higher order changes it again', async () => {
    const run = (order: number, mask: string) =>
      sample(new AnalyticDenoiser(), flowEuler, {
        ...base,
        order,
        policy: new StaticMaskPolicy(mask),
      })
    const full = await run(1, '1'.repeat(12))
    const o1 = await run(1, '110010010001')
    const o0 = await run(0, '110010010001')
    expect(o1.images.data).not.toEqual(full.images.data)
    expect(o0.images.data).not.toEqual(o1.images.data)
  })

  it('per-segment orders: each segment extrapolates with its own order, checked by hand', async () => {
    // keys 0, 3, 6 with orders [0, 1, 2]: steps 1-2 reuse h0, steps 4-5 extrapolate the line
    // through (0, h0), (3, h3), steps 7-11 the parabola through (0, h0), (3, h3), (6, h6)
    const d = new AnalyticDenoiser()
    const mask = '100100100000'
    const res = await sample(d, flowEuler, {
      ...base,
      order: 1,
      orders: [0, 1, 2],
      policy: new StaticMaskPolicy(mask),
    })
    const sig = flowEuler.sigmas(12)
    const labels = Int32Array.of(3)
    let x: Tensor = { data: gaussianNoise(5, 6), dims: [1, 1, 2, 3] }
    const anchors: { t: number; h: Float32Array }[] = []
    for (let i = 0; i < 12; i++) {
      let h: Float32Array
      if (mask[i] === '1') {
        h = (await d.trunk(x, sig[i], labels)).data
        anchors.push({ t: i, h })
      } else {
        h = new Float32Array(4)
        for (let f = 0; f < 4; f++) {
          const [a, b, c] = anchors.map((an) => an.h[f])
          if (anchors.length === 1) h[f] = a
          else if (anchors.length === 2) h[f] = b + ((i - 3) * (b - a)) / 3
          else {
            // Lagrange form of the parabola through (0, a), (3, b), (6, c)
            h[f] = (a * (i - 3) * (i - 6)) / 18 - (b * i * (i - 6)) / 9 + (c * i * (i - 3)) / 18
          }
        }
      }
      const v = await d.head({ data: h, dims: [1, 4] }, x, sig[i])
      x = flowEuler.step(x, v, i, sig)
    }
    const got = Array.from(res.images.data)
    Array.from(x.data).forEach((v, k) => expect(got[k]).toBeCloseTo(v, 5))
    // and it differs from a single order everywhere
    const o1 = await sample(new AnalyticDenoiser(), flowEuler, {
      ...base,
      order: 1,
      policy: new StaticMaskPolicy(mask),
    })
    expect(Array.from(o1.images.data)).not.toEqual(got)
    await expect(
      sample(new AnalyticDenoiser(), flowEuler, {
        ...base,
        orders: [0, 4],
        policy: new StaticMaskPolicy(mask),
      }),
    ).rejects.toThrow(/per-segment orders/)
  })

  it('batch of 4 equals 4 single runs, with one trunk call per key step for the batch', async () => {
    const classes = [1, 4, 7, 9]
    const seeds = [11, 12, 13, 14]
    const mask = '110100100101'
    for (const guidance of [1, 3]) {
      const d = new AnalyticDenoiser()
      const batch = await sample(d, flowEuler, {
        ...base,
        classes,
        seeds,
        guidance,
        policy: new StaticMaskPolicy(mask),
      })
      expect(d.trunkCalls).toBe(6)
      expect(d.trunkRows.every((r) => r === (guidance === 1 ? 4 : 8))).toBe(true)
      for (let b = 0; b < 4; b++) {
        const single = await sample(new AnalyticDenoiser(), flowEuler, {
          ...base,
          classes: [classes[b]],
          seeds: [seeds[b]],
          guidance,
          policy: new StaticMaskPolicy(mask),
        })
        expect(Array.from(batch.images.data.subarray(b * 6, b * 6 + 6))).toEqual(
          Array.from(single.images.data),
        )
      }
    }
  })

  it('same seed, same image; another seed, another image', async () => {
    const run = (seed: number) =>
      sample(new AnalyticDenoiser(), flowEuler, {
        ...base,
        seeds: [seed],
        policy: new StaticMaskPolicy(uniformMask(12, 5)),
      })
    expect((await run(9)).images.data).toEqual((await run(9)).images.data)
    expect((await run(9)).images.data).not.toEqual((await run(10)).images.data)
  })

  it('guidance 1 skips the unconditional branch; guidance > 1 extrapolates from it', async () => {
    const d1 = new AnalyticDenoiser()
    await sample(d1, flowEuler, { ...base, policy: new StaticMaskPolicy('1'.repeat(12)) })
    expect(d1.trunkRows[0]).toBe(1)
    const g = await sample(new AnalyticDenoiser(), flowEuler, {
      ...base,
      guidance: 4,
      policy: new StaticMaskPolicy('1'.repeat(12)),
    })
    const u = await sample(new AnalyticDenoiser(), flowEuler, {
      ...base,
      policy: new StaticMaskPolicy('1'.repeat(12)),
    })
    expect(g.images.data).not.toEqual(u.images.data)
  })

  it('stops between steps when the signal aborts', async () => {
    const ctrl = new AbortController()
    let seen = 0
    const run = sample(new AnalyticDenoiser(), flowEuler, {
      ...base,
      policy: new StaticMaskPolicy('1'.repeat(12)),
      signal: ctrl.signal,
      onFeature: (i) => {
        seen = i
        if (i === 3) ctrl.abort()
      },
    })
    await expect(run).rejects.toBeInstanceOf(SampleAbortedError)
    expect(seen).toBe(3)
  })

  it('refuses a plan made for another step count', async () => {
    await expect(
      sample(new AnalyticDenoiser(), flowEuler, {
        ...base,
        policy: new StaticMaskPolicy('1'.repeat(50)),
      }),
    ).rejects.toThrow(/50-step plan cannot drive a 12-step sampler/)
  })

  it('TeaCache-style policy computes less as its threshold grows', async () => {
    const nfe = async (t: number) =>
      (
        await sample(new AnalyticDenoiser(), flowEuler, {
          ...base,
          order: 0,
          policy: new TeaCachePolicy(t),
        })
      ).nfe
    const counts = [await nfe(0), await nfe(0.2), await nfe(1), await nfe(100)]
    expect(counts[0]).toBe(12)
    expect(counts[3]).toBe(2) // first and last steps always compute
    for (let k = 1; k < 4; k++) expect(counts[k]).toBeLessThanOrEqual(counts[k - 1])
    expect(counts[1]).toBeLessThan(12)
  })
})
