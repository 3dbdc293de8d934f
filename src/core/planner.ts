/**
 * Key-step planning over a path-aware cost tensor (DPCache, arXiv 2602.22654, Sec. 3.3).
 *
 * Keys 0 = t_1 < ... < t_K minimise sum_m C[t_{m-1}][t_m][t_{m+1}] with t_0 := t_1 and
 * t_{K+1} := N. The cost of a segment depends on the key *before* the current one, so a DP
 * whose state is one key (the paper's released planner, `greedy`) keeps a single back-pointer
 * per (keys used, key) and can miss the optimum. `exact` runs the DP over pair states
 * (previous key, current key): O(N^2) states a layer, O(N) moves each, every budget K from
 * the same pass. `2d` plans on C[i-1][i][j] as if the previous key were always adjacent
 * (the ablation); every plan's reported `cost` is its true path-aware cost.
 */
import { pactIndex, type Pact } from './pact.ts'

export type PlanMethod = 'exact' | 'greedy' | '2d'
export const PLAN_METHODS: readonly PlanMethod[] = ['exact', 'greedy', '2d']

export interface PlanOptions {
  method?: PlanMethod
  /** Steps 0..F-1 are always keys (they warm up the forecaster). Default 3. */
  forcedFirst?: number
  /** Steps N-L..N-1 are always keys. Default 0. */
  forcedLast?: number
  /** Largest gap between consecutive keys, including the last key to N. Default: none. */
  maxJump?: number
}

export interface Plan {
  /** Number of key steps K (= trunk evaluations, the NFE). */
  budget: number
  keySteps: number[]
  /** One char per step: '1' compute, '0' forecast (cache-dit's steps_computation_mask). */
  mask: string
  /** Path-aware cost of `keySteps` under the tensor. */
  cost: number
}

/** Resolved constraints shared by all planners. */
export interface Moves {
  steps: number
  forcedFirst: number
  forcedLast: number
  maxJump: number
  /** Largest j reachable from key i (j = steps is the end of sampling). */
  last(i: number): number
}

export function resolveMoves(steps: number, opts: PlanOptions = {}): Moves {
  const forcedFirst = opts.forcedFirst ?? 3
  const forcedLast = opts.forcedLast ?? 0
  const maxJump = opts.maxJump ?? steps
  for (const [name, v, lo] of [
    ['forcedFirst', forcedFirst, 0],
    ['forcedLast', forcedLast, 0],
    ['maxJump', maxJump, 1],
  ] as const) {
    if (!Number.isInteger(v) || v < lo || v > steps) {
      throw new RangeError(`${name} must be an integer in [${lo}, ${steps}], got ${v}`)
    }
  }
  // The next forced key after i: keys in {0..F-1} and {N-L..N-1} cannot be jumped over.
  const nextForced = (i: number): number => {
    if (i + 1 < forcedFirst) return i + 1
    if (i + 1 >= steps - forcedLast) return i + 1
    return steps - forcedLast
  }
  return {
    steps,
    forcedFirst,
    forcedLast,
    maxJump,
    last: (i) => Math.min(nextForced(i), i + maxJump, steps),
  }
}

export function maskOf(steps: number, keySteps: readonly number[]): string {
  const m = new Array<string>(steps).fill('0')
  for (const k of keySteps) m[k] = '1'
  return m.join('')
}

/** Path-aware cost of a key sequence; +Infinity if any segment is infeasible. */
export function pathCost(pact: Pact, keySteps: readonly number[]): number {
  const n = pact.steps
  let cost = 0
  for (let m = 0; m < keySteps.length; m++) {
    const p = m === 0 ? keySteps[0] : keySteps[m - 1]
    const next = m + 1 < keySteps.length ? keySteps[m + 1] : n
    cost += pact.data[pactIndex(n, p, keySteps[m], next)]
  }
  return cost
}

function checkPact(pact: Pact): void {
  const n = pact.steps
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`PACT steps must be >= 1, got ${n}`)
  const want = n * (n + 1) * (n + 1)
  if (pact.data.length !== want) {
    throw new RangeError(
      `PACT for ${n} steps needs shape [${n}, ${n + 1}, ${n + 1}] (${want} values), got ${pact.data.length}`,
    )
  }
}

function toPlan(pact: Pact, keySteps: number[]): Plan {
  return {
    budget: keySteps.length,
    keySteps,
    mask: maskOf(pact.steps, keySteps),
    cost: pathCost(pact, keySteps),
  }
}

/**
 * Plans every feasible budget in one pass. Returns plans sorted by budget; budgets with no
 * finite-cost path are omitted.
 */
export function planAll(pact: Pact, opts: PlanOptions = {}): Plan[] {
  checkPact(pact)
  const moves = resolveMoves(pact.steps, opts)
  const method = opts.method ?? 'exact'
  if (method === 'exact') return planExact(pact, moves).map((k) => toPlan(pact, k))
  if (method === 'greedy') return planGreedy(pact, moves).map((k) => toPlan(pact, k))
  if (method === '2d') return plan2d(pact, moves).map((k) => toPlan(pact, k))
  throw new RangeError(`unknown planner method '${method}' (allowed: ${PLAN_METHODS.join(', ')})`)
}

/** Pair-state DP, D[m][p][i]: optimal for the 3-D cost. Returns key lists by budget. */
function planExact(pact: Pact, moves: Moves): number[][] {
  const n = pact.steps
  const c = pact.data
  const back: Int16Array[] = [] // back[m][p * n + i] = key before p, for the state after m+1 keys
  let layer = new Float64Array(n * n).fill(Infinity)
  layer[0] = 0 // one key: state (0, 0)
  back.push(new Int16Array(n * n).fill(-1))
  const results: number[][] = []
  for (let m = 1; m <= n; m++) {
    const next = new Float64Array(n * n).fill(Infinity)
    const nextBack = new Int16Array(n * n).fill(-1)
    let bestEnd = Infinity
    let bestState = -1
    for (let i = m - 1; i < n; i++) {
      const jMax = moves.last(i)
      for (let p = 0; p <= i; p++) {
        const d = layer[p * n + i]
        if (d === Infinity) continue
        const row = pactIndex(n, p, i, 0)
        if (jMax === n) {
          const end = d + c[row + n]
          if (end < bestEnd) {
            bestEnd = end
            bestState = p * n + i
          }
        }
        for (let j = i + 1; j <= Math.min(jMax, n - 1); j++) {
          const v = d + c[row + j]
          if (v < next[i * n + j]) {
            next[i * n + j] = v
            nextBack[i * n + j] = p
          }
        }
      }
    }
    if (bestState >= 0 && bestEnd < Infinity) results.push(tracePairs(back, m, bestState, n))
    back.push(nextBack)
    layer = next
  }
  return results
}

function tracePairs(back: Int16Array[], m: number, state: number, n: number): number[] {
  const keys: number[] = []
  let p = Math.floor(state / n)
  let i = state % n
  for (let layer = m; layer >= 1; layer--) {
    keys.push(i)
    const before = back[layer - 1][p * n + i]
    i = p
    p = before
  }
  return keys.reverse()
}

/** The paper's released planner: one back-pointer per (keys used, key). */
function planGreedy(pact: Pact, moves: Moves): number[][] {
  return planSingleState(pact, moves, (bp, i) => pactIndex(pact.steps, bp, i, 0))
}

/** 2-D ablation: the previous key is assumed to be i - 1. */
function plan2d(pact: Pact, moves: Moves): number[][] {
  return planSingleState(pact, moves, (_bp, i) => pactIndex(pact.steps, Math.max(0, i - 1), i, 0))
}

/** Single-state DP D[m][i]; `rowOf(backPointer, i)` picks the cost row C[.][i][*] it uses. */
function planSingleState(
  pact: Pact,
  moves: Moves,
  rowOf: (bp: number, i: number) => number,
): number[][] {
  const n = pact.steps
  const c = pact.data
  const back: Int16Array[] = [new Int16Array(n).fill(-1)]
  back[0][0] = 0
  let layer = new Float64Array(n).fill(Infinity)
  layer[0] = 0
  const results: number[][] = []
  for (let m = 1; m <= n; m++) {
    const next = new Float64Array(n).fill(Infinity)
    const nextBack = new Int16Array(n).fill(-1)
    let bestEnd = Infinity
    let bestKey = -1
    for (let i = m - 1; i < n; i++) {
      const d = layer[i]
      if (d === Infinity) continue
      const row = rowOf(back[m - 1][i], i)
      const jMax = moves.last(i)
      if (jMax === n && d + c[row + n] < bestEnd) {
        bestEnd = d + c[row + n]
        bestKey = i
      }
      for (let j = i + 1; j <= Math.min(jMax, n - 1); j++) {
        if (d + c[row + j] < next[j]) {
          next[j] = d + c[row + j]
          nextBack[j] = i
        }
      }
    }
    if (bestKey >= 0) {
      const keys = [bestKey]
      for (let layerIdx = m - 1; layerIdx >= 1; layerIdx--)
        keys.push(back[layerIdx][keys[keys.length - 1]])
      results.push(keys.reverse())
    }
    back.push(nextBack)
    layer = next
  }
  return results
}
