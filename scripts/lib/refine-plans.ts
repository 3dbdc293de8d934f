/**
 * Closed-loop refinement of a schedule's plans on a real model: each candidate is judged by the
 * error of its final images against the full-step images of the calibration seeds (the cached
 * run, exactly as the runtime samples it): their mean MSE, or the mean of its logarithm. A
 * refined plan ships only if it also beats the DP plan on separate selection seeds, so a plan
 * fitted to the calibration seeds' noise stays out. Deterministic: same model, seeds and budget
 * give the same plans.
 */
import {
  orderedPathCost,
  type OrderedPlan,
  type OrderTensors,
} from '../../src/core/planner-orders.ts'
import { maskOf } from '../../src/core/planner.ts'
import { StaticMaskPolicy } from '../../src/core/policy.ts'
import { sample, type Denoiser } from '../../src/core/sampler.ts'
import { Rng } from '../../src/core/rng.ts'
import {
  REFINE_STARTS,
  type RefineError,
  type RefineOrigin,
  type Schedule,
} from '../../src/core/schedule.ts'
import { flowEuler } from '../../src/core/solver.ts'
import {
  candidateKey,
  randomKeys,
  refine,
  stateAfter,
  type Candidate,
  type RefineResult,
} from './refine.ts'

export interface Judge {
  seeds: readonly number[]
  classes: readonly number[]
  /** full-step final image per seed */
  references: readonly Float32Array[]
}

export interface RefineSetup {
  denoiser: Denoiser
  steps: number
  guidance: number
  shift: number
  /** judges the search */
  calibration: Judge
  /** decides between the DP plan and the refined one */
  selection: Judge
  orders: readonly number[]
  /** what a skipped step forecasts (absent: the trunk feature), as the schedule will record */
  spaces?: readonly string[]
  forcedFirst: number
  /** what a candidate is judged by, in the climbs and in selection (default: mean MSE) */
  error?: RefineError
  /** runs per start */
  evals: number
  /** runs per budget for climbs from seeded random key sets (0 or absent: none) */
  randomEvals?: number
  /** random climbs move keys only (every segment stays order 1), as the BudCache search does */
  randomKeysOnly?: boolean
  /** runs after which each climb's state is a candidate in selection too (early stopping) */
  stops?: readonly number[]
  /** runs for a climb over orders and keys from the selected plan (0 or absent: none) */
  polishEvals?: number
  /**
   * per-segment space sets the polish may choose ('+'-joined; the first is `spaces`, which
   * every segment starts from): schedule v4. Absent: the polish keeps `spaces` everywhere.
   */
  polishSpaces?: readonly string[]
  log?: (line: string) => void
}

/**
 * Mean over seeds of the final image's mean squared error against its reference, or of its
 * natural logarithm (`final-image-log-mse`; an exact match counts as 1e-20).
 */
export async function finalImageError(
  s: Pick<RefineSetup, 'denoiser' | 'steps' | 'guidance' | 'shift' | 'spaces'>,
  judge: Judge,
  c: Candidate,
  error: RefineError = 'final-image-mse',
): Promise<number> {
  const res = await sample(s.denoiser, flowEuler, {
    steps: s.steps,
    classes: judge.classes,
    seeds: judge.seeds,
    guidance: s.guidance,
    shift: s.shift,
    order: Math.max(...c.orders, 0),
    orders: c.orders,
    spaces: s.spaces,
    segmentSpaces: c.spaces,
    policy: new StaticMaskPolicy(maskOf(s.steps, c.keySteps)),
  })
  const size = res.images.data.length / judge.seeds.length
  let total = 0
  judge.references.forEach((ref, b) => {
    let e = 0
    for (let k = 0; k < size; k++) {
      const d = res.images.data[b * size + k] - ref[k]
      e += d * d
    }
    total += error === 'final-image-log-mse' ? Math.log(Math.max(e / size, 1e-20)) : e / size
  })
  return total / judge.seeds.length
}

/**
 * How a refinement runs, as the recipe (`refinement.options`) and the schedule record it: one
 * builder, so the recipe's comparison with a recorded run and the schedule agree. The key order
 * is part of both files' bytes.
 */
export function refinementOptions(
  s: Pick<
    RefineSetup,
    'error' | 'evals' | 'randomEvals' | 'randomKeysOnly' | 'stops' | 'polishEvals' | 'polishSpaces'
  > & {
    calibration: Pick<Judge, 'seeds' | 'classes'>
    selection: Pick<Judge, 'seeds'>
  },
  order1Start: boolean,
) {
  return {
    error: s.error ?? ('final-image-mse' as RefineError),
    seeds: [...s.calibration.seeds],
    classes: [...s.calibration.classes],
    maxEvals: s.evals,
    selectSeeds: [...s.selection.seeds],
    ...(order1Start ? { starts: [...REFINE_STARTS] } : {}),
    ...(s.randomEvals ? { randomEvals: s.randomEvals } : {}),
    ...(s.randomEvals && s.randomKeysOnly ? { randomKeysOnly: true } : {}),
    ...(s.stops?.length ? { stops: [...s.stops] } : {}),
    ...(s.polishEvals ? { polishEvals: s.polishEvals } : {}),
    ...(s.polishEvals && s.polishSpaces ? { polishSpaces: [...s.polishSpaces] } : {}),
  }
}

/**
 * The most cached runs a budget's refinement may spend, from its recorded options: every start's
 * climb, the climbs from random key sets, the polish (bench:quality gives BudCache as many).
 */
export function refinementRuns(
  o: Pick<ReturnType<typeof refinementOptions>, 'maxEvals' | 'randomEvals' | 'polishEvals'> & {
    starts?: readonly string[]
  },
): number {
  return o.maxEvals * (o.starts?.length ?? 1) + (o.randomEvals ?? 0) + (o.polishEvals ?? 0)
}

/** A plan with per-segment spaces where the polish chose them (schedule v4). */
export type SpacedPlan = OrderedPlan & { spaces?: string[] }

type Climb = { from: RefineOrigin; cand: Candidate; r: RefineResult }
type State = ReturnType<typeof stateAfter> & { stoppedAfter?: number }

const climbFrom = (
  setup: RefineSetup,
  cand: Candidate,
  maxEvals: number,
  orders = setup.orders,
  spaceSets?: readonly string[],
): Promise<RefineResult> =>
  refine(cand, {
    steps: setup.steps,
    forcedFirst: setup.forcedFirst,
    orders,
    spaceSets,
    maxEvals,
    evaluate: (c) => finalImageError(setup, setup.calibration, c, setup.error),
  })

/** One budget's climbs: each DP start's, then random key sets' until their runs are spent. */
async function climbsOf(
  setup: RefineSetup,
  budget: number,
  starts: readonly { from: RefineOrigin; cand: Candidate }[],
): Promise<Climb[]> {
  const climbs: Climb[] = []
  for (const s of starts) climbs.push({ ...s, r: await climbFrom(setup, s.cand, setup.evals) })
  const rng = new Rng(setup.steps * 1009 + budget)
  // a climb needs a couple of runs to move at all
  for (let used = 0; (setup.randomEvals ?? 0) - used >= 2;) {
    const keySteps = randomKeys(setup.steps, budget, Math.max(1, setup.forcedFirst), () =>
      rng.uniform(),
    )
    const cand = { keySteps, orders: keySteps.map(() => 1) }
    const orders = setup.randomKeysOnly ? [] : setup.orders
    const r = await climbFrom(setup, cand, setup.randomEvals! - used, orders)
    used += r.evals
    climbs.push({ from: 'random', cand, r })
  }
  return climbs
}

/** A climb's selection candidates: its start (a DP plan), its early-stopped states, its end. */
function statesOf(climb: Climb, stops: readonly number[] = []): State[] {
  const out: State[] = []
  if (climb.from !== 'random') out.push(stateAfter(climb.r, 0))
  for (const stop of stops) {
    const st = stateAfter(climb.r, stop)
    if (st.moves.length > 0 && st.moves.length < climb.r.moves.length)
      out.push({ ...st, stoppedAfter: stop })
  }
  if (climb.r.moves.length > 0) out.push(stateAfter(climb.r, climb.r.evals))
  return out
}

/**
 * Refines `plans` at `budgets`; returns every plan (refined ones replaced where they won
 * selection) and the provenance record for the schedule.
 *
 * `order1Plans` (the order-1-only DP plans, every segment order 1) are a second start: the
 * per-order DP charges order-2 segments with a stand-in for the key before the previous one
 * (the tensor is 3-D), so where many late segments take order 2 it can be beaten by the plain
 * order-1 plan. Each start is hill-climbed with `evals` runs; the candidate with the lowest
 * error on the selection seeds (the starts and the climbs' results) ships.
 *
 * `randomEvals` more runs go to climbs from seeded random key sets (every segment order 1 at
 * the start), one after another until the runs are spent: the DP starts sit in one basin, and
 * at small K a better one can lie elsewhere (fashion K = 6 of 50: +2.5 dB on held-out seeds in
 * a scratch run). With `randomKeysOnly` they move keys only, as the BudCache search does: a
 * climb then needs fewer runs, so more of them fit. Only their climbed results enter
 * selection. The generator is seeded from (steps, budget), so a rerun draws the same key sets.
 *
 * With `stops`, each climb's state after that many of its runs (where it differs from the
 * start and the end) is a candidate in selection too: a climb that fits the calibration seeds
 * longer can do worse on new ones, and the BudCache baseline picks its early-stopping point
 * the same way. The states come from the climb's record, so they cost no model runs; only
 * their selection runs.
 *
 * With `polishEvals`, the selected plan is climbed once more over orders and keys: a keys-only
 * random climb often wins selection with every segment at order 1, while late segments gain
 * from order 2 (a scratch run on the previous schedules: +0.3 to +1.1 dB held out at K = 8 and
 * 13 of 50 on both models). Its end ships only if it beats the selected plan on the selection
 * seeds too. With `polishSpaces` it also chooses each segment's forecast spaces (schedule v4):
 * on the shipped plans, a scratch climb of 60 runs over five space sets gained +0.1 to +1.0 dB
 * on 32 fresh seeds at most budgets of both models (docs/benchmarks.md).
 */
export async function refinePlans(
  setup: RefineSetup,
  plans: readonly OrderedPlan[],
  budgets: readonly number[],
  tensors: OrderTensors,
  order1Plans?: readonly { budget: number; keySteps: number[] }[],
): Promise<{ plans: SpacedPlan[]; record: NonNullable<Schedule['refinement']> }> {
  const out: SpacedPlan[] = plans.slice()
  const record: NonNullable<Schedule['refinement']> = {
    method: 'hill-climb',
    ...refinementOptions(setup, order1Plans !== undefined),
    plans: [],
  }
  for (const budget of budgets) {
    const at = out.findIndex((p) => p.budget === budget)
    if (at < 0) continue
    const starts: { from: RefineOrigin; cand: Candidate }[] = [
      { from: 'dp', cand: { keySteps: out[at].keySteps.slice(), orders: out[at].orders.slice() } },
    ]
    const o1 = order1Plans?.find((p) => p.budget === budget)
    if (
      o1 &&
      candidateKey({ keySteps: o1.keySteps, orders: o1.keySteps.map(() => 1) }) !==
        candidateKey(starts[0].cand)
    )
      starts.push({
        from: 'dp-order1',
        cand: { keySteps: o1.keySteps.slice(), orders: o1.keySteps.map(() => 1) },
      })
    const t0 = performance.now()
    // every start climbed, then every distinct candidate judged on the selection seeds
    const climbs = await climbsOf(setup, budget, starts)
    const selection = new Map<string, number>()
    const selectErr = async (c: Candidate) => {
      const k = candidateKey(c)
      if (!selection.has(k))
        selection.set(k, await finalImageError(setup, setup.selection, c, setup.error))
      return selection.get(k)!
    }
    let best = { climb: climbs[0], state: stateAfter(climbs[0].r, 0) as State, error: Infinity }
    for (const climb of climbs) {
      for (const state of statesOf(climb, setup.stops)) {
        const e = await selectErr(state.best)
        if (e < best.error) best = { climb, state, error: e }
      }
    }
    const { climb, state } = best
    let chosen = state.best
    let polish: RefineResult | undefined
    let polishRuns = 0
    if ((setup.polishEvals ?? 0) >= 2) {
      const r = await climbFrom(setup, chosen, setup.polishEvals!, setup.orders, setup.polishSpaces)
      polishRuns = r.evals
      if (r.moves.length > 0 && (await selectErr(r.best)) < best.error) {
        polish = r
        chosen = r.best
      }
    }
    const shipped: 'refined' | 'dp' = state.moves.length > 0 || polish ? 'refined' : 'dp'
    setup.log?.(
      `K=${budget}: ${climbs
        .map(
          (c) =>
            `from ${c.from}: calibration error ${c.r.startError.toExponential(3)} -> ${c.r.error.toExponential(3)} in ${c.r.evals} runs (${c.r.moves.length} moves)`,
        )
        .join(
          '; ',
        )}; selection ${[...selection.values()].map((v) => v.toExponential(3)).join(', ')}: ship ${shipped} from ${climb.from}${state.stoppedAfter ? ` stopped after ${state.stoppedAfter} runs` : ''}${polish ? `, polished (${polish.moves.length} moves)` : ''}; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    )
    if (candidateKey(chosen) !== candidateKey(starts[0].cand)) {
      out[at] = {
        budget,
        keySteps: chosen.keySteps,
        orders: chosen.orders,
        ...(chosen.spaces ? { spaces: chosen.spaces } : {}),
        mask: maskOf(setup.steps, chosen.keySteps),
        cost: orderedPathCost(tensors, chosen.keySteps, chosen.orders),
      }
    }
    const round = (v: number) => Number(v.toPrecision(6))
    record.plans.push({
      budget,
      start: climb.cand,
      ...(order1Plans ? { from: climb.from } : {}),
      startError: round(climb.r.startError),
      // the DP start shipped: the record keeps the climb's end, which lost selection
      error: round(shipped === 'dp' ? climb.r.error : state.error),
      evals: climbs.reduce((n, c) => n + c.r.evals, 0) + polishRuns,
      moves: (shipped === 'dp' ? climb.r.moves : state.moves).map((m) => m.move),
      shipped,
      ...(state.stoppedAfter ? { stoppedAfter: state.stoppedAfter } : {}),
      ...(polish
        ? { polished: { moves: polish.moves.map((m) => m.move), error: round(polish.error) } }
        : {}),
    })
  }
  return { plans: out, record }
}
