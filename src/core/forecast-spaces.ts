/**
 * Where a skipped step's velocity comes from (schedule v3, `forecaster.spaces`).
 *
 * DPCache forecasts the trunk's last-block feature and runs the head on it ('feature', the
 * only space before v3). The same Taylor extrapolation over the key positions can also run on
 * what the model implies at a key step, in image space (rectified flow,
 * x = (1 - sigma) x0 + sigma eps, v = eps - x0):
 *
 *   'velocity'  v itself (after guidance)
 *   'noise'     eps_hat = x + (1 - sigma) v
 *   'data'      x0_hat  = x - sigma v
 *
 * and turn the forecast back into a velocity with the current x, so a skipped step also sees
 * where the sampler really is (for 'noise' and 'data'; reusing any of the three at order 0 is
 * the same Euler step). With several spaces the velocities are averaged: their extrapolation
 * errors differ in kind, and the mean errs less than either alone on both demo models (docs).
 */

export const FORECAST_SPACES = ['feature', 'velocity', 'noise', 'data'] as const
export type ForecastSpace = (typeof FORECAST_SPACES)[number]
/** The image-space ones, forecast from the guided velocity. */
export type OutputSpace = Exclude<ForecastSpace, 'feature'>

/** What the model implies in `space` at noise level `sigma`, written into `out`. */
export function toSpace(
  space: OutputSpace,
  x: Float32Array,
  v: Float32Array,
  sigma: number,
  out: Float32Array,
): Float32Array {
  if (space === 'velocity') out.set(v)
  else if (space === 'noise') for (let k = 0; k < v.length; k++) out[k] = x[k] + (1 - sigma) * v[k]
  else for (let k = 0; k < v.length; k++) out[k] = x[k] - sigma * v[k]
  return out
}

/**
 * The velocity a forecast `z` in `space` implies at the current `x`, added with `weight` into
 * `acc`. 'noise' needs sigma < 1 and 'data' sigma > 0: both hold at every step a flow-Euler
 * sampler can skip (step 0, sigma = 1, always computes; the terminal 0 is not a step).
 */
export function addVelocity(
  space: OutputSpace,
  x: Float32Array,
  z: Float32Array,
  sigma: number,
  weight: number,
  acc: Float32Array,
): void {
  if (space === 'velocity') {
    for (let k = 0; k < z.length; k++) acc[k] += weight * z[k]
  } else if (space === 'noise') {
    if (!(sigma < 1)) throw new RangeError(`a noise-space forecast needs sigma < 1, got ${sigma}`)
    const w = weight / (1 - sigma)
    for (let k = 0; k < z.length; k++) acc[k] += w * (z[k] - x[k])
  } else {
    if (!(sigma > 0)) throw new RangeError(`a data-space forecast needs sigma > 0, got ${sigma}`)
    const w = weight / sigma
    for (let k = 0; k < z.length; k++) acc[k] += w * (x[k] - z[k])
  }
}

/** One segment's set of a v4 plan, '+'-joined ('feature+noise'), checked as `checkSpaces` does. */
export const spaceSet = (set: string): ForecastSpace[] => checkSpaces(set.split('+'))

/** Checks a list of spaces: known names, no repeats, at least one. */
export function checkSpaces(spaces: readonly string[]): ForecastSpace[] {
  if (spaces.length === 0) throw new RangeError('forecast spaces: need at least one')
  for (const s of spaces) {
    if (!(FORECAST_SPACES as readonly string[]).includes(s)) {
      throw new RangeError(`forecast space "${s}" is not one of ${FORECAST_SPACES.join(', ')}`)
    }
  }
  if (new Set(spaces).size !== spaces.length) {
    throw new RangeError(`forecast spaces repeat: ${spaces.join(', ')}`)
  }
  return spaces as ForecastSpace[]
}
