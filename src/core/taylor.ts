/**
 * Taylor forecaster over uneven key positions (DPCache, arXiv 2602.22654, Sec. 3; TaylorSeer).
 *
 * The paper extrapolates cached features with finite-difference "derivatives". Key steps are
 * unevenly spaced, so dividing by the last gap only is wrong; we keep Newton divided
 * differences over the real positions and evaluate the interpolating polynomial of the last
 * r + 1 anchors, which is exact for polynomial trajectories of degree <= r.
 *
 * State after anchors at positions a < b < c (order 2), element-wise:
 *   d[0] = f(c)
 *   d[1] = f[c, b]    = (f(c) - f(b)) / (c - b)
 *   d[2] = f[c, b, a] = (f[c, b] - f[b, a]) / (c - a)
 *   predict(x) = d[0] + (x - c) (d[1] + (x - b) d[2])
 * With fewer anchors than r + 1 the order drops to what the history supports. Forecasts are
 * never fed back as anchors: only `update` (a real trunk output) moves the state.
 */

export interface Forecaster {
  /** Forgets all anchors. */
  reset(): void
  /** Records a real feature computed at `pos` (positions must increase). */
  update(pos: number, feature: Float32Array): void
  /**
   * Extrapolates the feature at `pos` into `out` (allocated if absent), with at most `order`
   * (default: the forecaster's own) terms of the Newton form.
   */
  predict(pos: number, out?: Float32Array, order?: number): Float32Array
  /** Order actually used by the next prediction (min(order, anchors - 1)). */
  readonly effectiveOrder: number
}

export class TaylorForecaster implements Forecaster {
  /** d[m] holds the m-th divided difference ending at the newest anchor. */
  private readonly diffs: Float64Array[]
  private readonly positions: number[] = []

  constructor(
    readonly order: number,
    readonly size: number,
  ) {
    if (!Number.isInteger(order) || order < 0 || order > 3) {
      throw new RangeError(`Taylor order must be 0, 1, 2 or 3, got ${order}`)
    }
    this.diffs = Array.from({ length: order + 1 }, () => new Float64Array(size))
  }

  get anchors(): number {
    return this.positions.length
  }

  get effectiveOrder(): number {
    return Math.max(0, Math.min(this.order, this.positions.length - 1))
  }

  reset(): void {
    this.positions.length = 0
  }

  update(pos: number, feature: Float32Array): void {
    if (feature.length !== this.size) {
      throw new RangeError(
        `feature has ${feature.length} elements, forecaster expects ${this.size}`,
      )
    }
    const last = this.positions[this.positions.length - 1]
    if (last !== undefined && !(pos > last)) {
      throw new RangeError(`anchor positions must increase: ${pos} after ${last}`)
    }
    // Newest-first positions, so old[m - 1] pairs with the anchor m places back.
    const old = this.positions.slice().reverse()
    const levels = Math.min(this.order, old.length)
    // Update the diagonal of the divided-difference table in place, highest order first,
    // so each level still reads the previous anchor's lower-order value.
    for (let k = 0; k < this.size; k++) {
      let lower = feature[k]
      let prevLower = this.diffs[0][k]
      this.diffs[0][k] = lower
      for (let m = 1; m <= levels; m++) {
        const value = (lower - prevLower) / (pos - old[m - 1])
        prevLower = this.diffs[m][k]
        this.diffs[m][k] = value
        lower = value
      }
    }
    this.positions.push(pos)
    if (this.positions.length > this.order + 1) this.positions.shift()
  }

  predict(pos: number, out?: Float32Array, order?: number): Float32Array {
    if (this.positions.length === 0)
      throw new Error('forecaster has no anchors: run a key step first')
    const target = out ?? new Float32Array(this.size)
    // Truncating the Newton form after r terms is exactly the order-r interpolant through the
    // newest r + 1 anchors, so one forecaster of the highest order serves every lower order.
    const r =
      order === undefined ? this.effectiveOrder : Math.max(0, Math.min(order, this.effectiveOrder))
    const n = this.positions.length
    const d = this.diffs
    // Horner on the Newton form: d0 + (x - n0)(d1 + (x - n1)(d2 + ...)), unrolled for the
    // orders that run on the hot path (a skipped step must cost a few % of a key step).
    if (r === 0) {
      target.set(d[0])
    } else if (r === 1) {
      const a = pos - this.positions[n - 1]
      const [d0, d1] = d
      for (let k = 0; k < this.size; k++) target[k] = d0[k] + a * d1[k]
    } else if (r === 2) {
      const a = pos - this.positions[n - 1]
      const b = pos - this.positions[n - 2]
      const [d0, d1, d2] = d
      for (let k = 0; k < this.size; k++) target[k] = d0[k] + a * (d1[k] + b * d2[k])
    } else {
      const factors = Array.from({ length: r }, (_, m) => pos - this.positions[n - 1 - m])
      for (let k = 0; k < this.size; k++) {
        let acc = d[r][k]
        for (let m = r - 1; m >= 0; m--) acc = d[m][k] + factors[m] * acc
        target[k] = acc
      }
    }
    return target
  }
}
