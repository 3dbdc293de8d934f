/**
 * The schedules script's forecast-space flags: --forecast-spaces (one list for every segment,
 * schedule v3) and --refine-polish-spaces (the sets the polish may give each segment, v4).
 */
import { checkSpaces, spaceSet, type ForecastSpace } from '../../src/core/forecast-spaces.ts'

export class SpaceArgError extends Error {
  override name = 'SpaceArgError'
}

/** --forecast-spaces: checked names; the feature alone is the default, recorded as absent. */
export function forecastSpaces(v: string | undefined): ForecastSpace[] | undefined {
  if (v === undefined) return undefined
  let spaces: ForecastSpace[]
  try {
    spaces = checkSpaces(v.split(',').map((s) => s.trim()))
  } catch (e) {
    throw new SpaceArgError(`--forecast-spaces: ${(e as Error).message}`)
  }
  return spaces.length === 1 && spaces[0] === 'feature' ? undefined : spaces
}

/**
 * --refine-polish-spaces: comma-separated sets, each '+'-joined (feature+noise,noise,...).
 * The first must be the schedule's own spaces: every segment starts there, and a plan whose
 * segments all keep it records no per-segment spaces.
 */
export function polishSpaces(
  v: string | undefined,
  spaces: readonly string[] | undefined,
): string[] | undefined {
  if (v === undefined) return undefined
  const sets = v.split(',').map((set) => {
    try {
      return spaceSet(set.trim()).join('+')
    } catch (e) {
      throw new SpaceArgError(`--refine-polish-spaces: ${(e as Error).message}`)
    }
  })
  const own = (spaces ?? ['feature']).join('+')
  if (sets.length < 2 || new Set(sets).size !== sets.length || sets[0] !== own)
    throw new SpaceArgError(
      `--refine-polish-spaces: at least two distinct sets, the first being the forecast spaces (${own}), got '${v}'`,
    )
  return sets
}
