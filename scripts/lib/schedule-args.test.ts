import { describe, expect, it } from 'vitest'
import { parseScheduleArgs, refineErrorNamed, UsageError } from './schedule-args.ts'

describe('refineErrorNamed', () => {
  it('takes the short and the recorded names, and nothing else', () => {
    expect(refineErrorNamed('mse')).toBe('final-image-mse')
    expect(refineErrorNamed('log-mse')).toBe('final-image-log-mse')
    expect(refineErrorNamed('final-image-mse')).toBe('final-image-mse')
    expect(refineErrorNamed('final-image-log-mse')).toBe('final-image-log-mse')
    for (const bad of ['psnr', 'MSE', '', 'toString', '__proto__'])
      expect(refineErrorNamed(bad)).toBeUndefined()
  })
})

describe('climb run counts', () => {
  const parse = (flag: string, n: string) =>
    parseScheduleArgs(['--model', 'toy-single', '--steps', '12', '--refine', flag, n])
  it('take 0 or at least 2 runs: one run could never move a climb, yet would be recorded', () => {
    for (const flag of ['--refine-random-evals', '--refine-polish-evals']) {
      expect(() => parse(flag, '1')).toThrow(UsageError)
      expect(() => parse(flag, '1')).toThrow(/0 or at least 2/)
      expect(() => parse(flag, '2.5')).toThrow(/must be an integer in \[0, 100000\]/)
    }
    expect(parse('--refine-random-evals', '0').refine?.randomEvals).toBe(0)
    expect(parse('--refine-polish-evals', '2').refine?.polishEvals).toBe(2)
    const none = parseScheduleArgs(['--model', 'toy-single', '--steps', '12', '--refine'])
    expect(none.refine?.polishEvals).toBe(0)
  })
})

describe('--forecast-spaces', () => {
  const parse = (...extra: string[]) =>
    parseScheduleArgs(['--model', 'toy-single', '--steps', '12', ...extra])
  it('takes known spaces without repeats; the feature alone is the default, recorded as absent', () => {
    expect(parse('--forecast-spaces', 'feature,noise').spaces).toEqual(['feature', 'noise'])
    expect(parse('--forecast-spaces', ' data , velocity').spaces).toEqual(['data', 'velocity'])
    expect(parse('--forecast-spaces', 'feature')).not.toHaveProperty('spaces')
    expect(parse()).not.toHaveProperty('spaces')
    expect(() => parse('--forecast-spaces', 'feature,eps')).toThrow(
      /--forecast-spaces: forecast space "eps" is not one of feature, velocity, noise, data/,
    )
    expect(() => parse('--forecast-spaces', 'noise,noise')).toThrow(UsageError)
    expect(() => parse('--forecast-spaces', '')).toThrow(UsageError)
  })
  it("comes from the recipe unless given; 'feature' given overrides the recipe's", () => {
    const recipe = {
      schema: 'dpcache-recipe/v1' as const,
      model: 'toy-single',
      steps: [12],
      tensor: {
        source: 'calibrated' as const,
        samples: 4,
        seed: 90000,
        guidance: 2,
        backend: 'wasm',
      },
      forecaster: {
        order: 1,
        cost: '3d' as const,
        metric: 'l1' as const,
        includeArrival: true,
        spaces: ['feature' as const, 'noise' as const],
      },
      planner: { forcedFirst: 1, forcedLast: 0, maxJump: null },
      refinement: null,
    }
    const args = (...extra: string[]) =>
      parseScheduleArgs(['--model', 'toy-single', ...extra], recipe)
    expect(args().spaces).toEqual(['feature', 'noise'])
    expect(args('--forecast-spaces', 'feature')).not.toHaveProperty('spaces')
    expect(args('--forecast-spaces', 'velocity').spaces).toEqual(['velocity'])
  })
  it('is refused for an imported tensor, planned for its own forecaster', () => {
    expect(() =>
      parseScheduleArgs([
        ...['--model', 'flux', '--steps', '12', '--import-pact', 'x.npy', '--licence', 'MIT'],
        ...['--forecast-spaces', 'feature,noise'],
      ]),
    ).toThrow(/--forecast-spaces needs calibration/)
  })
})

describe('--refine-polish-spaces', () => {
  const parse = (...extra: string[]) =>
    parseScheduleArgs(['--model', 'toy-single', '--steps', '12', ...extra])
  const polish = ['--refine', '--refine-polish-evals', '10']
  it('takes distinct sets, the first being the forecast spaces, checked and normalised', () => {
    const a = parse(
      ...polish,
      '--forecast-spaces',
      'feature,noise',
      '--refine-polish-spaces',
      'feature+noise, noise ,feature',
    )
    expect(a.refine?.polishSpaces).toEqual(['feature+noise', 'noise', 'feature'])
    expect(parse(...polish, '--refine-polish-spaces', 'feature,data').refine?.polishSpaces).toEqual(
      ['feature', 'data'],
    )
    expect(parse(...polish).refine).not.toHaveProperty('polishSpaces')
  })
  it('names what is wrong', () => {
    const bad =
      (v: string, extra: string[] = polish) =>
      () =>
        parse(...extra, '--refine-polish-spaces', v)
    expect(bad('feature+eps,feature')).toThrow(
      /--refine-polish-spaces: forecast space "eps" is not one of feature, velocity, noise, data/,
    )
    expect(bad('noise,feature')).toThrow(
      /at least two distinct sets, the first being the forecast spaces \(feature\), got 'noise,feature'/,
    )
    expect(bad('feature')).toThrow(/at least two distinct sets/)
    expect(bad('feature,noise,noise')).toThrow(/at least two distinct sets/)
    expect(bad('feature,noise', ['--refine'])).toThrow(
      '--refine-polish-spaces needs --refine and --refine-polish-evals',
    )
    expect(bad('feature,noise')).not.toThrow()
  })
})
