import { describe, expect, it } from 'vitest'
import { parseSchedule, parseScheduleIndex, selectPlan, type Schedule } from './schedule.ts'

function valid(): Schedule {
  return {
    schema: 'dpcache-schedule/v1',
    model: 'tiny-dit-mnist',
    modelSha256: 'a'.repeat(64),
    steps: 5,
    solver: { kind: 'flow-euler', shift: 1 },
    forecaster: { kind: 'taylor', order: 1, cost: '3d', includeArrival: true, metric: 'l1' },
    calibration: {
      source: 'calibrated',
      samples: 2,
      seeds: [1, 2],
      classes: [3, 4],
      guidance: 3,
      pactFile: 'tiny/5.pact.npy',
      pactSha256: 'b'.repeat(64),
    },
    planner: { method: 'exact', forcedFirst: 1, forcedLast: 0, maxJump: 5 },
    plans: [
      { budget: 2, keySteps: [0, 3], mask: '10010', cost: 4, nfe: 2, speedup: 2.5 },
      { budget: 3, keySteps: [0, 1, 3], mask: '11010', cost: 2, nfe: 3, speedup: 5 / 3 },
      { budget: 5, keySteps: [0, 1, 2, 3, 4], mask: '11111', cost: 0, nfe: 5, speedup: 1 },
    ],
  }
}

describe('schedule schema', () => {
  it('accepts a well-formed schedule', () => {
    expect(parseSchedule(valid()).plans).toHaveLength(3)
  })

  const broken: [string, (s: Schedule) => void, RegExp][] = [
    [
      'mask disagrees with keySteps',
      (s) => (s.plans[0].mask = '11000'),
      /plans\.0\.mask: mask does not match/,
    ],
    [
      'mask of the wrong length',
      (s) => (s.plans[0].mask = '1001'),
      /plans\.0\.mask: mask has 4 chars, expected 5/,
    ],
    [
      'budget disagrees with keySteps',
      (s) => (s.plans[1].budget = 4),
      /plans\.1\.keySteps: budget 4 but 3 key steps/,
    ],
    ['key step beyond N', (s) => (s.plans[0].keySteps = [0, 7]), /stay below 5/],
    ['first key not 0', (s) => (s.plans[0].keySteps = [1, 3]), /first key step must be 0/],
    ['unknown field', (s) => Object.assign(s, { extra: 1 }), /Unrecognized key/],
    ['bad model id', (s) => (s.model = '../etc'), /model: model ids are lower-case/],
    ['nfe differs from budget', (s) => (s.plans[0].nfe = 3), /nfe must equal budget/],
    ['unknown metric', (s) => (s.forecaster.metric = 'l7'), /forecaster\.metric/],
  ]
  for (const [name, mutate, message] of broken) {
    it(`rejects ${name} with a message naming the field`, () => {
      const s = valid()
      mutate(s)
      expect(() => parseSchedule(s)).toThrow(message)
    })
  }

  it('records unknowns of an imported tensor as null, with its origin and the greedy cost', () => {
    const s = valid()
    Object.assign(s, { modelSha256: null, solver: { kind: 'flow-euler', shift: null } })
    s.calibration = {
      ...s.calibration,
      source: 'imported',
      samples: null,
      seeds: null,
      classes: null,
      guidance: null,
      origin: { source: 'a release', licence: 'Apache-2.0' },
    }
    s.plans[0].greedyCost = 4.5
    const parsed = parseSchedule(s)
    expect(parsed.solver.shift).toBeNull()
    expect(parsed.calibration).toMatchObject({
      seeds: null,
      classes: null,
      origin: { licence: 'Apache-2.0' },
    })
    expect(parsed.plans[0].greedyCost).toBe(4.5)
    expect(() => parseSchedule({ ...s, solver: { kind: 'flow-euler', shift: 0 } })).toThrow(
      /solver\.shift/,
    )
    expect(() =>
      parseSchedule({ ...s, calibration: { ...s.calibration, origin: { source: 'x' } } }),
    ).toThrow(/origin\.licence/)
  })

  it('v2 carries per-segment orders, one per key step; v1 refuses them', () => {
    const s = valid()
    s.schema = 'dpcache-schedule/v2'
    s.plans[0].orders = [0, 2]
    s.plans[1].orders = [1, 1, 2]
    expect(parseSchedule(s).plans[1].orders).toEqual([1, 1, 2])
    s.plans[1].orders = [1, 2]
    expect(() => parseSchedule(s)).toThrow(/plans\.1\.orders: 2 orders for 3 segments/)
    const old = valid()
    old.plans[0].orders = [0, 2]
    expect(() => parseSchedule(old)).toThrow(
      /schema: per-segment orders and refinement need dpcache-schedule\/v2/,
    )
  })

  it('names a newer format instead of listing field errors', () => {
    const s = { ...valid(), schema: 'dpcache-schedule/v5' }
    expect(() => parseSchedule(s)).toThrow(
      /dpcache-schedule\/v5 is newer than this reader, which knows dpcache-schedule\/v1, dpcache-schedule\/v2, dpcache-schedule\/v3 and dpcache-schedule\/v4/,
    )
  })

  it('v4 carries per-segment spaces, one set per segment; older versions refuse them', () => {
    const s = valid()
    s.schema = 'dpcache-schedule/v4'
    s.forecaster.spaces = ['feature', 'noise']
    s.plans[1].spaces = ['feature+noise', 'noise', 'feature']
    expect(parseSchedule(s).plans[1].spaces).toEqual(['feature+noise', 'noise', 'feature'])
    for (const old of ['dpcache-schedule/v2', 'dpcache-schedule/v3'] as const) {
      expect(() => parseSchedule({ ...s, schema: old })).toThrow(
        /schema: per-segment forecast spaces need dpcache-schedule\/v4/,
      )
    }
    s.plans[1].spaces = ['feature+noise', 'noise']
    expect(() => parseSchedule(s)).toThrow(/plans\.1\.spaces: 2 space sets for 3 segments/)
    for (const bad of ['feature+eps', 'noise+noise', '', 'feature,noise']) {
      s.plans[1].spaces = ['feature', bad, 'noise']
      expect(() => parseSchedule(s)).toThrow(
        /plans\.1\.spaces\.1: a '\+'-joined list of distinct forecast spaces \(feature, velocity, noise, data\)/,
      )
    }
  })

  it('v3 carries the forecast spaces; v1 and v2 refuse them, and bad lists name the field', () => {
    const s = valid()
    s.schema = 'dpcache-schedule/v3'
    s.forecaster.spaces = ['feature', 'noise']
    expect(parseSchedule(s).forecaster.spaces).toEqual(['feature', 'noise'])
    for (const old of ['dpcache-schedule/v1', 'dpcache-schedule/v2'] as const) {
      expect(() => parseSchedule({ ...s, schema: old })).toThrow(
        /schema: forecast spaces need dpcache-schedule\/v3 or later/,
      )
    }
    const bad = (spaces: unknown) => () =>
      parseSchedule({ ...s, forecaster: { ...s.forecaster, spaces } })
    expect(bad(['feature', 'latent'])).toThrow(
      /forecaster\.spaces\.1: .*"feature"\|"velocity"\|"noise"\|"data"/,
    )
    expect(bad(['noise', 'noise'])).toThrow(/forecaster\.spaces: forecast spaces must not repeat/)
    expect(bad([])).toThrow(/forecaster\.spaces/)
  })

  it('validates the index', () => {
    expect(() =>
      parseScheduleIndex({
        schema: 'dpcache-schedule-index/v1',
        models: [
          {
            model: 'm',
            schedules: [{ steps: 5, file: 'm/5.json', sha256: 'c'.repeat(64), budgets: [2, 3] }],
          },
        ],
      }),
    ).not.toThrow()
    expect(() =>
      parseScheduleIndex({
        schema: 'dpcache-schedule-index/v1',
        models: [
          {
            model: 'm',
            schedules: [{ steps: 5, file: '../x.json', sha256: 'c'.repeat(64), budgets: [] }],
          },
        ],
      }),
    ).toThrow(/file/)
  })
})

describe('selectPlan', () => {
  const s = valid()
  it('by budget, speed-up and cost', () => {
    expect(selectPlan(s, { budget: 3 })?.keySteps).toEqual([0, 1, 3])
    expect(selectPlan(s, { budget: 4 })).toBeUndefined()
    expect(selectPlan(s, { speedup: 1.5 })?.budget).toBe(3) // 5/3 >= 1.5 and cheaper than K=2
    expect(selectPlan(s, { speedup: 2.5 })?.budget).toBe(2)
    expect(selectPlan(s, { speedup: 3 })).toBeUndefined()
    expect(selectPlan(s, { maxCost: 3 })?.budget).toBe(3)
    expect(selectPlan(s, { maxCost: 100 })?.budget).toBe(2)
  })
})
