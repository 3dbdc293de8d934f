/**
 * The DPCache sampling loop (the design notes, section 2): at a key step run the trunk and feed the
 * forecaster; at any other step forecast the trunk output and run the cheap head on it (and,
 * with schedule v3's forecast spaces, average in the velocities of image-space forecasts:
 * forecast-spaces.ts; v4 chooses the spaces per segment); then one solver step. Batch is the
 * leading dimension, and classifier-free guidance stacks the conditional and unconditional rows
 * into one trunk call: the forecaster is element-wise, so each row (each stream) gets its own
 * extrapolation.
 */
import { addVelocity, checkSpaces, spaceSet, toSpace, type OutputSpace } from './forecast-spaces.ts'
import type { ComputePolicy } from './policy.ts'
import { gaussianNoise } from './rng.ts'
import type { Solver } from './solver.ts'
import { TaylorForecaster, type Forecaster } from './taylor.ts'
import { concatBatch, sizeOf, type Tensor } from './tensor.ts'

/** A model split at the last transformer block. Single-graph models use an identity head. */
export interface Denoiser {
  /** Per-row shape of the image/latent, e.g. [1, 28, 28]. */
  readonly imageDims: readonly number[]
  /** Per-row shape of the cached feature, e.g. [49, 96]. */
  readonly featureDims: readonly number[]
  /** Label used for the unconditional branch of classifier-free guidance. */
  readonly nullClass: number
  trunk(x: Tensor, sigma: number, labels: Int32Array): Promise<Tensor>
  head(h: Tensor, x: Tensor, sigma: number, labels: Int32Array): Promise<Tensor>
}

export interface SampleOptions {
  steps: number
  classes: readonly number[]
  seeds: readonly number[]
  /** Classifier-free guidance scale; 1 runs the conditional branch only. */
  guidance: number
  policy: ComputePolicy
  /** Taylor order used between key steps (must match the schedule's calibration). */
  order: number
  /**
   * Per-segment orders (schedule v2): `orders[m]` fills the steps after the m-th key step.
   * Overrides `order` where given; segments past its end use `order`.
   */
  orders?: readonly number[]
  /**
   * Schedule v3: the spaces forecast at a skipped step, whose velocities are averaged
   * (forecast-spaces.ts). Absent: ['feature'], the trunk feature through the head.
   */
  spaces?: readonly string[]
  /**
   * Schedule v4: per-segment spaces, `segmentSpaces[m]` ('+'-joined, e.g. 'feature+noise')
   * for the steps after the m-th key step; segments past its end use `spaces`.
   */
  segmentSpaces?: readonly string[]
  shift?: number
  signal?: AbortSignal
  /** Sees every real trunk output (calibration records trajectories through this). */
  onFeature?: (step: number, h: Tensor) => void
}

export interface SampleResult {
  images: Tensor
  keySteps: number[]
  /** Trunk evaluations (each covers the whole batch and both guidance branches). */
  nfe: number
  /** Wall time in trunk calls, forecasts and head calls, and the whole run. */
  timing: { trunkMs: number; forecastMs: number; headMs: number; totalMs: number }
}

export class SampleAbortedError extends Error {
  override name = 'SampleAbortedError'
}

/**
 * A macrotask turn. onnxruntime-web's wasm runs settle through microtasks only, so a whole run
 * would otherwise block timers and I/O: an abort (client gone, timeout) would be seen only
 * after the last step, and a server could not even accept requests meanwhile.
 */
const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((r) => setImmediate(r))
    : () => new Promise((r) => setTimeout(r, 0))

export async function sample(
  denoiser: Denoiser,
  solver: Solver,
  opts: SampleOptions,
): Promise<SampleResult> {
  const start = performance.now()
  const batch = opts.classes.length
  if (batch < 1 || opts.seeds.length !== batch) {
    throw new RangeError(
      `need one seed per class, got ${opts.seeds.length} seeds for ${batch} classes`,
    )
  }
  const rowSize = sizeOf(denoiser.imageDims)
  const sigmas = solver.sigmas(opts.steps, { shift: opts.shift ?? 1 })
  const guided = opts.guidance !== 1
  const rows = guided ? 2 * batch : batch
  const labels = Int32Array.from(
    guided ? [...opts.classes, ...opts.classes.map(() => denoiser.nullClass)] : opts.classes,
  )

  // 1. seeded noise, one generator per image so batching never changes an image
  const noise = new Float32Array(batch * rowSize)
  opts.seeds.forEach((seed, b) => noise.set(gaussianNoise(seed, rowSize), b * rowSize))
  let x: Tensor = { data: noise, dims: [batch, ...denoiser.imageDims] }

  const orders = opts.orders ?? []
  if (orders.some((r) => !Number.isInteger(r) || r < 0 || r > 3)) {
    throw new RangeError(
      `per-segment orders must be integers in [0, 3], got [${orders.join(', ')}]`,
    )
  }
  const maxOrder = Math.max(opts.order, ...orders)
  const spaces = checkSpaces(opts.spaces ?? ['feature'])
  const bySegment = (opts.segmentSpaces ?? []).map(spaceSet)
  // every space any segment forecasts is fed at every key step, so each has its history
  const used = [...new Set([...spaces, ...bySegment.flat()])]
  const viaFeature = used.includes('feature')
  const outputSpaces = used.filter((s): s is OutputSpace => s !== 'feature')
  // the loop needs only the Forecaster interface (reset / update / predict); Taylor is the one we ship
  const forecaster: Forecaster = new TaylorForecaster(maxOrder, rows * sizeOf(denoiser.featureDims))
  // image-space forecasts run on the guided velocity, one row per image
  const imageSize = batch * rowSize
  const outputForecasters = outputSpaces.map(() => new TaylorForecaster(maxOrder, imageSize))
  const implied = new Float32Array(outputSpaces.length > 0 ? imageSize : 0)
  // the averaged velocity, reused: the solver step consumes it before the next step writes it
  const mixed = new Float32Array(outputSpaces.length > 0 ? imageSize : 0)
  const featureDims = [rows, ...denoiser.featureDims]
  // one buffer for every forecast: the head has consumed it before the next step overwrites it
  const forecastBuffer = new Float32Array(rows * sizeOf(denoiser.featureDims))
  const keySteps: number[] = []
  let trunkMs = 0
  let forecastMs = 0
  let headMs = 0
  opts.policy.reset(opts.steps)

  for (let i = 0; i < opts.steps; i++) {
    if (opts.signal) await yieldToEventLoop()
    if (opts.signal?.aborted) throw new SampleAbortedError(`sampling aborted before step ${i}`)
    const sigma = sigmas[i]
    const input = guided ? concatBatch([x, x]) : x
    // 2. key step: real trunk output, which becomes a forecaster anchor
    //    other step: extrapolate it (the first step always computes: nothing to extrapolate)
    let velocity: Tensor
    const t0 = performance.now()
    if (opts.policy.shouldCompute(i, x, sigmas) || keySteps.length === 0) {
      const h = await denoiser.trunk(input, sigma, labels)
      trunkMs += performance.now() - t0
      if (viaFeature) forecaster.update(i, h.data)
      keySteps.push(i)
      opts.onFeature?.(i, h)
      opts.policy.observe?.(i, input, h)
      velocity = await headVelocity(h, input, sigma)
      outputSpaces.forEach((s, j) =>
        outputForecasters[j].update(i, toSpace(s, x.data, velocity.data, sigma, implied)),
      )
    } else {
      const order = orders[keySteps.length - 1] ?? opts.order
      const here = bySegment[keySteps.length - 1] ?? spaces
      let fromFeature: Tensor | undefined
      if (here.includes('feature')) {
        const h = { data: forecaster.predict(i, forecastBuffer, order), dims: featureDims }
        forecastMs += performance.now() - t0
        fromFeature = await headVelocity(h, input, sigma)
      }
      if (here.length === 1 && fromFeature) velocity = fromFeature
      else {
        // the mean of the spaces' velocities
        const weight = 1 / here.length
        if (fromFeature) for (let k = 0; k < imageSize; k++) mixed[k] = weight * fromFeature.data[k]
        else mixed.fill(0)
        const t2 = performance.now()
        outputSpaces.forEach((s, j) => {
          if (!here.includes(s)) return
          const z = outputForecasters[j].predict(i, implied, order)
          addVelocity(s, x.data, z, sigma, weight, mixed)
        })
        forecastMs += performance.now() - t2
        velocity = { data: mixed, dims: x.dims }
      }
    }
    // 4. one Euler step
    x = solver.step(x, velocity, i, sigmas, x)
  }

  /** 3. the head: cheap, and it re-applies this step's timestep modulation; then guidance. */
  async function headVelocity(h: Tensor, input: Tensor, sigma: number): Promise<Tensor> {
    const t1 = performance.now()
    const v = await denoiser.head(h, input, sigma, labels)
    headMs += performance.now() - t1
    return guided ? combineGuidance(v, batch, opts.guidance) : v
  }
  return {
    images: x,
    keySteps,
    nfe: keySteps.length,
    timing: { trunkMs, forecastMs, headMs, totalMs: performance.now() - start },
  }
}

/** v = v_uncond + g (v_cond - v_uncond), rows [cond..., uncond...]. */
export function combineGuidance(v: Tensor, batch: number, guidance: number): Tensor {
  const half = v.data.length / 2
  const out = new Float32Array(half)
  for (let k = 0; k < half; k++) {
    const u = v.data[half + k]
    out[k] = u + guidance * (v.data[k] - u)
  }
  return { data: out, dims: [batch, ...v.dims.slice(1)] }
}
