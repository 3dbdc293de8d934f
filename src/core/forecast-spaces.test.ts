import { describe, expect, it } from 'vitest'
import { addVelocity, checkSpaces, toSpace, type OutputSpace } from './forecast-spaces.ts'
import { StaticMaskPolicy } from './policy.ts'
import { gaussianNoise } from './rng.ts'
import { combineGuidance, sample, type Denoiser } from './sampler.ts'
import { flowEuler } from './solver.ts'
import { TaylorForecaster } from './taylor.ts'
import { concatBatch, type Tensor } from './tensor.ts'

/** Row-independent, non-linear trunk and a head that mixes in sigma and x. */
const denoiser: Denoiser = {
  imageDims: [1, 2, 3],
  featureDims: [4],
  nullClass: 9,
  async trunk(x, sigma, labels) {
    const rows = x.dims[0]
    const out = new Float32Array(rows * 4)
    for (let r = 0; r < rows; r++)
      for (let f = 0; f < 4; f++) {
        let s = sigma * (f + 1) + 0.1 * labels[r]
        for (let k = 0; k < 6; k++) s += Math.sin(k + f) * x.data[r * 6 + k]
        out[r * 4 + f] = Math.tanh(s)
      }
    return { data: out, dims: [rows, 4] }
  },
  async head(h, x, sigma) {
    const rows = h.dims[0]
    const v = new Float32Array(rows * 6)
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < 6; k++)
        v[r * 6 + k] = x.data[r * 6 + k] * 0.3 + h.data[r * 4 + (k % 4)] * (1 + sigma)
    return { data: v, dims: [rows, 1, 2, 3] }
  },
}

const OUTPUT: OutputSpace[] = ['velocity', 'noise', 'data']
const run = (mask: string, spaces: string[], order: number, guidance = 1) =>
  sample(denoiser, flowEuler, {
    steps: mask.length,
    classes: [3, 7],
    seeds: [5, 6],
    guidance,
    order,
    spaces,
    policy: new StaticMaskPolicy(mask),
  }).then((r) => Array.from(r.images.data))

/** Runs a plan and records the x each trunk call sees (the sampler's state at each key step). */
async function runSeen(mask: string, spaces: string[], segmentSpaces?: string[]) {
  const seen: number[][] = []
  const watching: Denoiser = {
    ...denoiser,
    trunk: (x, sigma, labels) => {
      seen.push(Array.from(x.data))
      return denoiser.trunk(x, sigma, labels)
    },
  }
  const r = await sample(watching, flowEuler, {
    steps: mask.length,
    classes: [3, 7],
    seeds: [5, 6],
    guidance: 1,
    order: 1,
    spaces,
    segmentSpaces,
    policy: new StaticMaskPolicy(mask),
  })
  return { seen, images: Array.from(r.images.data) }
}

describe('forecast spaces', () => {
  it('per segment (v4): each segment forecasts in its own spaces, the rest in the default', async () => {
    const mask = '1010010000'
    const feature = await runSeen(mask, ['feature'])
    const noise = await runSeen(mask, ['noise'])
    // uniform per-segment spaces are the plain run
    expect(await runSeen(mask, ['feature'], ['noise', 'noise', 'noise'])).toEqual(noise)
    const fn = ['feature+noise', 'feature+noise', 'feature+noise']
    expect((await runSeen(mask, ['noise'], fn)).images).toEqual(
      (await runSeen(mask, ['feature', 'noise'])).images,
    )
    // segment 2 (after key 2) in noise, the first in the feature: up to key 5 the run is the
    // feature run, from there on it differs from both
    const mixed = await runSeen(mask, ['feature'], ['feature', 'noise'])
    expect(mixed.seen.slice(0, 2)).toEqual(feature.seen.slice(0, 2))
    expect(mixed.seen[2]).not.toEqual(feature.seen[2])
    expect(mixed.seen[2]).not.toEqual(noise.seen[2])
    // segments past the list's end forecast in `spaces`: the last one here, as in `feature`
    const last = await runSeen(mask, ['noise'], ['feature', 'feature'])
    const allFeatureButLast = await runSeen(mask, ['feature'], ['feature', 'feature', 'noise'])
    expect(last).toEqual(allFeatureButLast)
    expect(last.images).not.toEqual(feature.images)
  })

  it('per-segment sets are checked: unknown or repeated spaces are refused', async () => {
    await expect(runSeen('1100', ['feature'], ['feature', 'noise+eps'])).rejects.toThrow(
      'forecast space "eps" is not one of feature, velocity, noise, data',
    )
    await expect(runSeen('1100', ['feature'], ['noise+noise'])).rejects.toThrow(
      'forecast spaces repeat: noise, noise',
    )
  })

  it('a velocity taken to a space and back is the same velocity, at any x and sigma', () => {
    const x = Float32Array.of(0.3, -1.2, 2)
    const v = Float32Array.of(1.5, 0.25, -0.7)
    for (const s of OUTPUT)
      for (const sigma of [0.9, 0.5, 0.05]) {
        const acc = new Float32Array(3)
        addVelocity(s, x, toSpace(s, x, v, sigma, new Float32Array(3)), sigma, 1, acc)
        Array.from(acc).forEach((a, k) => expect(a).toBeCloseTo(v[k], 5))
      }
  })

  it('with every step computed, the spaces change nothing', async () => {
    const full = await run('1'.repeat(8), ['feature'], 1)
    for (const spaces of [['noise'], ['feature', 'data'], ['velocity', 'noise', 'data']])
      expect(await run('1'.repeat(8), spaces, 1)).toEqual(full)
  })

  it('at order 0 velocity, noise and data reuse are the same Euler steps (rectified flow)', async () => {
    const mask = '100100010000'
    const v = await run(mask, ['velocity'], 0, 2)
    for (const s of ['noise', 'data'] as const) {
      const other = await run(mask, [s], 0, 2)
      other.forEach((a, k) => expect(a).toBeCloseTo(v[k], 4))
    }
    // at order 1 they extrapolate different curves, so they differ
    const v1 = await run(mask, ['velocity'], 1, 2)
    const n1 = await run(mask, ['noise'], 1, 2)
    expect(Math.max(...v1.map((a, k) => Math.abs(a - n1[k])))).toBeGreaterThan(1e-3)
  })

  it('several spaces average their velocities: feature + noise checked by hand', async () => {
    const mask = '1101000100'
    const got = await run(mask, ['feature', 'noise'], 1, 2)
    // the loop written out: guidance 2 stacks [cond, uncond] rows
    const steps = mask.length
    const sig = flowEuler.sigmas(steps)
    const labels = Int32Array.of(3, 7, 9, 9)
    let x: Tensor = {
      data: Float32Array.of(...gaussianNoise(5, 6), ...gaussianNoise(6, 6)),
      dims: [2, 1, 2, 3],
    }
    const fh = new TaylorForecaster(1, 16)
    const fe = new TaylorForecaster(1, 12)
    const guided = async (h: Tensor, input: Tensor, s: number) =>
      combineGuidance(await denoiser.head(h, input, s, labels), 2, 2).data
    for (let i = 0; i < steps; i++) {
      const input = concatBatch([x, x])
      const s = sig[i]
      let v: Float32Array
      if (mask[i] === '1') {
        const h = await denoiser.trunk(input, s, labels)
        fh.update(i, h.data)
        v = await guided(h, input, s)
        fe.update(
          i,
          x.data.map((xk, k) => xk + (1 - s) * v[k]),
        )
      } else {
        const vh = await guided({ data: fh.predict(i), dims: [4, 4] }, input, s)
        const eps = fe.predict(i)
        v = vh.map((a, k) => 0.5 * a + (0.5 * (eps[k] - x.data[k])) / (1 - s))
      }
      x = flowEuler.step(x, { data: v, dims: x.dims }, i, sig)
    }
    got.forEach((a, k) => expect(a).toBeCloseTo(x.data[k], 5))
    expect(got).not.toEqual(await run(mask, ['feature'], 1, 2))
  })

  it('names the allowed spaces for an unknown, repeated or empty list', () => {
    expect(() => checkSpaces(['feature', 'latent'])).toThrow(
      'forecast space "latent" is not one of feature, velocity, noise, data',
    )
    expect(() => checkSpaces(['noise', 'noise'])).toThrow('forecast spaces repeat: noise, noise')
    expect(() => checkSpaces([])).toThrow('need at least one')
    expect(checkSpaces(['feature', 'noise'])).toEqual(['feature', 'noise'])
  })
})
