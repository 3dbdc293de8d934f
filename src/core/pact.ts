/**
 * Path-Aware Cost Tensor (PACT), DPCache (arXiv 2602.22654) Sec. 3.2.
 *
 * C[p][i][j], for a previous key p, a current key i and the next key j (j = N: end of
 * sampling), is the error of forecasting every skipped step tau = i+1 .. j from the key
 * history ending in (p, i), averaged over calibration trajectories. The arrival step j is
 * included by default (the paper's end-drift penalty); for j = N the sum stops at N - 1.
 *
 * Order 1 uses exactly the anchors (p, i), so the 3-D tensor is exact. Order r > 1 also needs
 * the keys before p, which the 3-D state does not know: like the paper we stand in p-1, p-2..
 * for them (an approximation). `buildPact4` removes it for order 2 with a 4-D tensor over key
 * triples C[q][p][i][j].
 */
import { TaylorForecaster } from './taylor.ts'

/** A 3-D cost tensor, row-major [N, N+1, N+1] (the layout released with the paper). */
export interface Pact {
  readonly steps: number
  readonly data: Float64Array
}

/** Exact order-2 cost over key triples, row-major [N, N, N, N+1]: C4[q][p][i][j]. */
export interface Pact4 {
  readonly steps: number
  readonly data: Float64Array
}

export type ErrorMetric = 'l1' | 'rel-l1' | 'mse'
export const ERROR_METRICS: readonly ErrorMetric[] = ['l1', 'rel-l1', 'mse']

export interface PactOptions {
  /** Taylor order of the forecaster the tensor measures (0..3); default 1. */
  order?: number
  /** Per-step error: mean absolute (paper default), relative L1, or mean squared. */
  metric?: ErrorMetric
  /** Count the arrival step j in a segment's cost (paper: yes). */
  includeArrival?: boolean
  /** Called after each key history is measured, for progress bars. */
  onProgress?: (done: number, total: number) => void
}

/** One calibration trajectory: the cached feature at each of the N steps. */
export type Trajectory = readonly Float32Array[]

export function pactIndex(steps: number, p: number, i: number, j: number): number {
  return (p * (steps + 1) + i) * (steps + 1) + j
}

/**
 * The one-step forecast error at step i + 1 from keys (i - 1, i), as [step, error] points:
 * spikes mark where the trajectory bends and a planner should spend keys. It is the cost of
 * the segment i -> i+1 when the arrival step counts, and of i -> i+2 (one skipped step) when
 * it does not. Drawn beside every schedule and in the playground.
 */
export function oneStepErrors(pact: Pact, includeArrival: boolean): [number, number][] {
  const n = pact.steps
  const points: [number, number][] = []
  for (let i = 1; i < n - 1; i++) {
    const j = includeArrival ? i + 1 : i + 2
    if (j <= n) points.push([i + 1, pact.data[pactIndex(n, i - 1, i, j)]])
  }
  return points
}

export function pact4Index(steps: number, q: number, p: number, i: number, j: number): number {
  return ((q * steps + p) * steps + i) * (steps + 1) + j
}

/** Error of `pred` against `truth` under `metric`. */
export function featureError(pred: Float32Array, truth: Float32Array, metric: ErrorMetric): number {
  let num = 0
  let den = 0
  for (let k = 0; k < truth.length; k++) {
    const d = pred[k] - truth[k]
    if (metric === 'mse') num += d * d
    else num += Math.abs(d)
    if (metric === 'rel-l1') den += Math.abs(truth[k])
  }
  if (metric === 'rel-l1') return den > 0 ? num / den : num
  return num / truth.length
}

function checkTrajectories(trajs: readonly Trajectory[]): { steps: number; size: number } {
  if (trajs.length === 0) throw new RangeError('PACT needs at least one calibration trajectory')
  const steps = trajs[0].length
  const size = trajs[0][0]?.length ?? 0
  if (steps < 1 || size < 1) throw new RangeError('calibration trajectories are empty')
  trajs.forEach((t, s) => {
    if (t.length !== steps)
      throw new RangeError(`trajectory ${s} has ${t.length} steps, expected ${steps}`)
    t.forEach((f, i) => {
      if (f.length !== size) {
        throw new RangeError(`trajectory ${s} step ${i} has ${f.length} features, expected ${size}`)
      }
    })
  })
  return { steps, size }
}

/**
 * Mean over trajectories of the cumulative forecast error after a key history `anchors`
 * (ascending step indices, last one the current key i): out[j] for j = i+1 .. N.
 */
function segmentCosts(
  trajs: readonly Trajectory[],
  anchors: readonly number[],
  metric: ErrorMetric,
  includeArrival: boolean,
  forecaster: TaylorForecaster,
  scratch: Float32Array,
  out: Float64Array,
): void {
  const steps = trajs[0].length
  const i = anchors[anchors.length - 1]
  out.fill(0)
  for (const traj of trajs) {
    forecaster.reset()
    for (const a of anchors) forecaster.update(a, traj[a])
    // running[tau] = sum of errors for steps i+1..tau
    let running = 0
    let before = 0 // sum up to tau - 1, for the arrival-excluded variant
    for (let j = i + 1; j <= steps; j++) {
      if (j < steps) {
        before = running
        running += featureError(forecaster.predict(j, scratch), traj[j], metric)
      } else {
        before = running
      }
      out[j] += includeArrival ? running : before
    }
  }
  for (let j = i + 1; j <= steps; j++) out[j] /= trajs.length
}

/** Keys before p that the 3-D state cannot know, stood in by p-1, p-2, .. (paper). */
function approximateHistory(p: number, i: number, order: number): number[] {
  if (i === 0) return [0]
  const history = [p, i]
  for (let q = p - 1; q >= 0 && history.length < order + 1; q--) history.unshift(q)
  return history.slice(Math.max(0, history.length - (order + 1)))
}

/** Builds C[p][i][j] from full calibration trajectories. Infeasible entries are +Infinity. */
export function buildPact(trajs: readonly Trajectory[], opts: PactOptions = {}): Pact {
  const { steps, size } = checkTrajectories(trajs)
  const order = opts.order ?? 1
  const metric = opts.metric ?? 'l1'
  const includeArrival = opts.includeArrival ?? true
  const forecaster = new TaylorForecaster(order, size)
  const scratch = new Float32Array(size)
  const row = new Float64Array(steps + 1)
  const data = new Float64Array(steps * (steps + 1) * (steps + 1)).fill(Infinity)
  const total = 1 + ((steps - 1) * steps) / 2
  let done = 0
  for (let i = 0; i < steps; i++) {
    for (let p = 0; p < Math.max(i, 1); p++) {
      segmentCosts(
        trajs,
        approximateHistory(p, i, order),
        metric,
        includeArrival,
        forecaster,
        scratch,
        row,
      )
      for (let j = i + 1; j <= steps; j++) data[pactIndex(steps, p, i, j)] = row[j]
      opts.onProgress?.(++done, total)
    }
  }
  return { steps, data }
}

/**
 * Exact order-2 cost: C4[q][p][i][j] with q < p < i the last three keys; (0, 0, i) is the
 * history [0, i] and (0, 0, 0) the first key alone.
 */
export function buildPact4(
  trajs: readonly Trajectory[],
  opts: Omit<PactOptions, 'order'> = {},
): Pact4 {
  const { steps, size } = checkTrajectories(trajs)
  const metric = opts.metric ?? 'l1'
  const includeArrival = opts.includeArrival ?? true
  const forecaster = new TaylorForecaster(2, size)
  const scratch = new Float32Array(size)
  const row = new Float64Array(steps + 1)
  const data = new Float64Array(steps * steps * steps * (steps + 1)).fill(Infinity)
  const histories: number[][] = [[0]]
  for (let i = 1; i < steps; i++) {
    histories.push([0, i])
    for (let p = 1; p < i; p++) for (let q = 0; q < p; q++) histories.push([q, p, i])
  }
  histories.forEach((h, done) => {
    segmentCosts(trajs, h, metric, includeArrival, forecaster, scratch, row)
    const [q, p, i] = h.length === 3 ? h : h.length === 2 ? [0, 0, h[1]] : [0, 0, 0]
    for (let j = i + 1; j <= steps; j++) data[pact4Index(steps, q, p, i, j)] = row[j]
    opts.onProgress?.(done + 1, histories.length)
  })
  return { steps, data }
}
