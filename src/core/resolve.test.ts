import { describe, expect, it } from 'vitest'
import { fixtureSchedule } from '../../test/fixtures/schedules.ts'
import { choosePlan, PlanError, resolvePlan, type PlanModel } from './resolve.ts'

const model: PlanModel = { id: 'm', defaultSteps: 10, shift: 1 }
const schedule = fixtureSchedule('m', 10) // budgets 3..10, costs fall as budgets grow

function planError(f: () => unknown): PlanError {
  try {
    f()
  } catch (err) {
    if (err instanceof PlanError) return err
    throw err
  }
  throw new Error('resolved')
}

describe('resolvePlan', () => {
  it('is full compute without a selector, at budget = steps and at speedup <= 1', () => {
    for (const req of [{}, { budget: 10 }, { speedup: 1 }, { speedup: 0.5 }]) {
      const r = resolvePlan(model, schedule, req)
      expect(r).toMatchObject({
        steps: 10,
        budget: 10,
        mask: '1111111111',
        source: 'full',
        shift: 1,
        cost: 0,
      })
      expect(r.keySteps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    }
    // and needs no schedule at the model's default step count
    expect(resolvePlan(model, undefined, {}).budget).toBe(10)
  })

  it('takes the plan the schedule has for a budget, a speedup or a cost ceiling', () => {
    const p5 = schedule.plans.find((p) => p.budget === 5)!
    expect(resolvePlan(model, schedule, { budget: 5 })).toMatchObject({
      budget: 5,
      mask: p5.mask,
      keySteps: p5.keySteps,
      cost: p5.cost,
      order: 1,
      source: 'schedule',
    })
    // speedup 2 allows budgets <= 5; the cheapest of those is the largest
    expect(resolvePlan(model, schedule, { speedup: 2 }).budget).toBe(5)
    const p4 = schedule.plans.find((p) => p.budget === 4)!
    expect(resolvePlan(model, schedule, { maxCost: p4.cost }).budget).toBe(4)
    // below the cheapest plan, full compute (cost 0) is what qualifies
    expect(resolvePlan(model, schedule, { maxCost: 0 }).source).toBe('full')
  })

  it('names the field and what would work', () => {
    expect(planError(() => resolvePlan(model, schedule, { budget: 2 }))).toMatchObject({
      kind: 'invalid',
      field: 'budget',
      allowed: [3, 4, 5, 6, 7, 8, 9, 10],
    })
    expect(planError(() => resolvePlan(model, schedule, { speedup: 4 }))).toMatchObject({
      field: 'speedup',
      allowed: { min: 1, max: 3.333 },
    })
    expect(planError(() => resolvePlan(model, undefined, { steps: 30 }, [20, 50]))).toMatchObject({
      kind: 'not_found',
      code: 'unknown_steps',
      allowed: [10, 20, 50],
    })
    expect(planError(() => resolvePlan(model, undefined, { budget: 5 }))).toMatchObject({
      field: 'budget',
      allowed: [10],
    })
    expect(planError(() => resolvePlan(model, schedule, { budget: 5, speedup: 2 }))).toMatchObject({
      field: 'speedup',
    })
  })

  it('refuses a schedule planned for other weights, another shift or another step count', () => {
    const signed = { ...schedule, modelSha256: 'a'.repeat(64) }
    expect(
      planError(() =>
        resolvePlan({ ...model, fingerprint: 'b'.repeat(64) }, signed, { budget: 5 }),
      ),
    ).toMatchObject({ kind: 'unavailable', code: 'schedule_mismatch' })
    expect(
      resolvePlan({ ...model, fingerprint: 'a'.repeat(64) }, signed, { budget: 5 }).budget,
    ).toBe(5)
    const shifted = { ...schedule, solver: { kind: 'flow-euler' as const, shift: 3 } }
    expect(planError(() => resolvePlan(model, shifted, { budget: 5 })).message).toContain('shift 3')
    expect(resolvePlan({ ...model, shift: 3 }, shifted, { budget: 5 }).shift).toBe(3)
    expect(planError(() => resolvePlan(model, schedule, { steps: 20, budget: 5 })).code).toBe(
      'schedule_mismatch',
    )
  })

  it('runs an imported schedule whose shift is unknown with the model manifest shift', () => {
    const unknown = {
      ...schedule,
      solver: { kind: 'flow-euler', shift: null },
    } as unknown as typeof schedule
    expect(resolvePlan({ ...model, shift: 3 }, unknown, { budget: 5 }).shift).toBe(3)
  })
})

describe('choosePlan', () => {
  it('has no full-compute fallback: the schedule is all there is', () => {
    expect(choosePlan(schedule, { budget: 3 }).budget).toBe(3)
    expect(planError(() => choosePlan(schedule, { maxCost: -1 }))).toMatchObject({
      field: 'maxCost',
    })
    expect(planError(() => choosePlan(schedule, {}))).toMatchObject({ kind: 'invalid' })
  })
})
