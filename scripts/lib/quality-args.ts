/**
 * bench:quality's command line, checked before any model runs: a typo must not cost a
 * calibration (minutes) or, worse, run a different bench than the one asked for.
 */
import { parseArgs } from 'node:util'
import type { RefineError } from '../../src/core/schedule.ts'
import { REFINE_ERROR_NAME_LIST, refineErrorNamed } from './schedule-args.ts'

const OPTIONS = {
  model: { type: 'string', default: 'tiny-dit-mnist' },
  seeds: { type: 'string', default: '0..29' },
  classes: { type: 'string', default: '0..9' },
  settings: { type: 'string', default: '50:4,5,6,8,10,13,17,25;20:4,8;28:6,10' },
  'tune-seeds': { type: 'string', default: '8' },
  'budcache-evals': { type: 'string' },
  'budcache-errors': { type: 'string' },
  'budcache-spaces': { type: 'string', default: 'both' },
  backend: { type: 'string', default: 'wasm' },
  only: { type: 'string' },
  'lemica-seeds': { type: 'string', default: '2' },
  'lemica-cap': { type: 'string' },
  guidance: { type: 'string' },
  chunk: { type: 'string', default: '30' },
  json: { type: 'string' },
  out: { type: 'string' },
  cache: { type: 'string', default: '.cache/quality' },
  classifier: { type: 'string' },
  'models-dir': { type: 'string', default: 'models' },
  schedules: { type: 'string', default: 'schedules' },
  'warm-only': { type: 'boolean', default: false },
} as const

/** A comma-separated option whose every item must be one of `allowed`. */
function choices<T extends string>(flag: string, list: string, allowed: readonly T[]): T[] {
  const names = list.split(',')
  const bad = names.filter((n) => !(allowed as readonly string[]).includes(n))
  if (bad.length)
    throw new Error(`--${flag} ${bad.join(',')}: expected some of ${allowed.join(', ')}`)
  return names as T[]
}

const isCount = (s: string) => /^[0-9]+$/.test(s)

/** 'a..b' or 'a,b,c' of non-negative integers. */
export function range(flag: string, s: string): number[] {
  const m = /^(\d+)\.\.(\d+)$/.exec(s)
  if (m && Number(m[1]) <= Number(m[2]))
    return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, k) => Number(m[1]) + k)
  const list = s.split(',')
  if (m || !list.every(isCount))
    throw new Error(`--${flag} ${s}: expected a..b (a <= b) or a comma-separated list of integers`)
  return list.map(Number)
}

/** A positive integer option, or undefined where it is absent. */
function count(flag: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined
  if (!isCount(s) || Number(s) < 1) throw new Error(`--${flag} ${s}: expected a positive integer`)
  return Number(s)
}

export function qualityArgs(args: string[]) {
  const { values } = parseArgs({ args, options: OPTIONS, strict: true })
  // a partial rerun runs the shipped row and these only (other methods' rows are merged from
  // earlier runs by scripts/quality-report.ts); 'shipped' alone: just the shipped row
  const only = values.only
    ? choices('only', values.only, ['shipped', 'dpcache', 'budcache'] as const).filter(
        (n): n is 'dpcache' | 'budcache' => n !== 'shipped',
      )
    : undefined
  const givenErrors = values['budcache-errors']
    ? choices('budcache-errors', values['budcache-errors'], REFINE_ERROR_NAME_LIST).map((n) =>
        refineErrorNamed(n)!,
      )
    : undefined
  const [budcacheSpaces] = choices('budcache-spaces', values['budcache-spaces'], [
    'feature',
    'shipped',
    'both',
  ] as const)
  const seeds = range('seeds', values.seeds)
  if (seeds.some((s) => s >= 80000 && s < 100000))
    throw new Error('--seeds overlap the tuning (80000..) or calibration (90000..) seeds')
  const settings = values.settings.split(';').map((part) => {
    const m = /^(\d+):(\d+(?:,\d+)*)$/.exec(part)
    const steps = Number(m?.[1])
    const budgets = m ? m[2].split(',').map(Number) : []
    if (!m || steps < 1 || budgets.some((k) => k < 1 || k > steps))
      throw new Error(
        `--settings ${part}: expected STEPS:K,K,... with 1 <= K <= STEPS, settings joined by ';'`,
      )
    return { steps, budgets }
  })
  const [backend] = choices('backend', values.backend, ['wasm', 'cpu'] as const)
  const guidance = values.guidance === undefined ? undefined : Number(values.guidance)
  if (guidance !== undefined && !(Number.isFinite(guidance) && guidance >= 0))
    throw new Error(`--guidance ${values.guidance}: expected a non-negative number`)
  return {
    values,
    only,
    budcacheSpaces,
    /**
     * BudCache's judging errors: as given, else the method as specified (final-image MSE) plus
     * the shipped refinement's error when that differs.
     */
    budcacheErrors(shippedError?: RefineError): RefineError[] {
      if (givenErrors) return givenErrors
      return shippedError && shippedError !== 'final-image-mse'
        ? ['final-image-mse', shippedError]
        : ['final-image-mse']
    },
    seeds,
    classes: range('classes', values.classes),
    settings,
    backend,
    guidance,
    tuneSeeds: count('tune-seeds', values['tune-seeds'])!,
    chunk: count('chunk', values.chunk)!,
    lemicaSeeds: count('lemica-seeds', values['lemica-seeds'])!,
    lemicaCap: count('lemica-cap', values['lemica-cap']),
    budcacheEvals: count('budcache-evals', values['budcache-evals']),
  }
}
