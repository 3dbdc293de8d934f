/**
 * Warm start and the cost model behind honest Retry-After estimates.
 *
 * `warmUp` runs every graph once at every batch size the host will serve (kernel selection on
 * wasm and native, shader compilation on WebGPU, where a cold first call took a minute), then
 * times the smallest and largest shapes again to fit a per-call cost `a + b * rows` for the
 * trunk and the head. `CostModel.estimateMs` predicts a sampler run from those fits plus a
 * per-step cost learned from real runs (the sampler's own work, forecasts and event-loop turns
 * are not in the per-call times).
 */
import type { Denoiser } from '../core/sampler.ts'

/** Rows per graph call for batches 1..maxBatch, with and without guidance (which doubles them). */
export function servedRows(maxBatch: number): number[] {
  const rows = new Set<number>()
  for (let b = 1; b <= maxBatch; b++) rows.add(b).add(2 * b)
  return [...rows].sort((a, b) => a - b)
}

/** A straight line through measured (rows, ms) points. */
interface Fit {
  intercept: number
  perRow: number
}

const at = (f: Fit, rows: number) => Math.max(0, f.intercept + f.perRow * rows)

function fitLine(points: readonly (readonly [number, number])[]): Fit {
  const [x0, y0] = points[0]
  const [x1, y1] = points[points.length - 1]
  if (x1 === x0) return { intercept: 0, perRow: y0 / x0 }
  const perRow = Math.max(0, (y1 - y0) / (x1 - x0))
  return { intercept: y0 - perRow * x0, perRow }
}

export interface CallCosts {
  trunk: Fit
  head: Fit
}

/**
 * Per-model call costs plus what a run spends outside the graph calls (forecasts, the solver,
 * event-loop turns), learned per step from finished runs. That part is added, not multiplied:
 * it barely depends on the batch, so a ratio learned on small runs would inflate large ones.
 */
export class CostModel {
  readonly #calls = new Map<string, CallCosts>()
  #perStepMs = 0

  set(model: string, costs: CallCosts): void {
    this.#calls.set(model, costs)
  }

  #callsMs(c: CallCosts, run: { rows: number; steps: number; nfe: number }): number {
    return run.nfe * at(c.trunk, run.rows) + run.steps * at(c.head, run.rows)
  }

  /** Predicted wall time of one sampler run, or undefined before the model was measured. */
  estimateMs(model: string, run: { rows: number; steps: number; nfe: number }): number | undefined {
    const c = this.#calls.get(model)
    return c && this.#callsMs(c, run) + run.steps * this.#perStepMs
  }

  /** Learns from a finished run what its steps cost beyond the predicted graph calls. */
  observe(
    model: string,
    run: { rows: number; steps: number; nfe: number },
    actualMs: number,
  ): void {
    const c = this.#calls.get(model)
    if (!c || run.steps < 1) return
    const extra = Math.max(0, (actualMs - this.#callsMs(c, run)) / run.steps)
    this.#perStepMs = 0.7 * this.#perStepMs + 0.3 * extra
  }
}

async function timeCall(call: () => Promise<unknown>, repeats: number): Promise<number> {
  const times: number[] = []
  for (let k = 0; k < repeats; k++) {
    const t0 = performance.now()
    await call()
    times.push(performance.now() - t0)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]
}

/**
 * Runs trunk and head once at each of `rows`, then measures the extremes (median of 3).
 * `onProgress(done, total)` sees every call, for a warming host's Retry-After.
 */
export async function warmUp(
  denoiser: Denoiser,
  nullClass: number,
  rows: readonly number[],
  onProgress?: (done: number, total: number) => void,
): Promise<CallCosts> {
  const ends = [rows[0], rows[rows.length - 1]]
  const total = rows.length + ends.length
  let done = 0
  const calls = (r: number) => {
    const x = {
      data: new Float32Array(r * size(denoiser.imageDims)),
      dims: [r, ...denoiser.imageDims],
    }
    const labels = new Int32Array(r).fill(nullClass)
    const trunk = () => denoiser.trunk(x, 0.5, labels)
    const h = {
      data: new Float32Array(r * size(denoiser.featureDims)),
      dims: [r, ...denoiser.featureDims],
    }
    const head = () => denoiser.head(h, x, 0.5, labels)
    return { trunk, head }
  }
  for (const r of rows) {
    const { trunk, head } = calls(r)
    await trunk()
    await head()
    onProgress?.(++done, total)
    // a wasm call holds the event loop: let /healthz and /readyz answer between shapes
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
  const trunkPoints: [number, number][] = []
  const headPoints: [number, number][] = []
  for (const r of ends) {
    const { trunk, head } = calls(r)
    trunkPoints.push([r, await timeCall(trunk, 3)])
    headPoints.push([r, await timeCall(head, 3)])
    onProgress?.(++done, total)
  }
  return { trunk: fitLine(trunkPoints), head: fitLine(headPoints) }
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1)
