/**
 * Closed-loop refinement of a plan: start from the DP plan and hill-climb over local moves,
 * each judged by the real final-image error of the cached run (the cost tensor only predicts
 * feature error one segment at a time; the sampler's error compounds through the solver).
 *
 * Moves, tried in a fixed order so that a run is deterministic (cheapest guesses first):
 *   order   segment m to each other allowed forecaster order
 *   spaces  segment m to each other allowed set of forecast spaces (schedule v4)
 *   shift   key m by -1, +1, then -2, +2, then -3, +3 (keys stay increasing, forced keys stay)
 *   move    key m into the middle of the longest segment (a remove + insert)
 * The first improvement is taken and the walk goes on from the same place in the new plan's
 * list; it stops once a whole list passes with no improvement or after `maxEvals` evaluations.
 * The result is never worse than the start on the judging seeds.
 */

export interface Candidate {
  keySteps: number[]
  /** orders[m]: forecaster order after keySteps[m] */
  orders: number[]
  /** spaces[m]: forecast spaces ('+'-joined) after keySteps[m]; absent: the schedule's */
  spaces?: string[]
}

export interface RefineOptions {
  steps: number
  /** steps 0..forcedFirst-1 stay keys */
  forcedFirst: number
  /** orders a segment may take; [] or one value: keys only */
  orders: readonly number[]
  /**
   * space sets a segment may take ('+'-joined), the first being the schedule's (a candidate
   * without `spaces` has it everywhere); absent or one value: spaces stay as they are
   */
  spaceSets?: readonly string[]
  /** evaluations allowed (the start's included) */
  maxEvals: number
  /** mean final-image error of a candidate on the judging seeds (lower is better) */
  evaluate: (c: Candidate) => Promise<number>
}

export interface AcceptedMove {
  move: string
  error: number
  /** the plan after this move */
  cand: Candidate
  /** runs spent when it was accepted, this one included */
  evals: number
}

export interface RefineResult {
  start: Candidate
  startError: number
  best: Candidate
  error: number
  moves: AcceptedMove[]
  evals: number
}

const SHIFT_ROUNDS = [
  [-1, 1],
  [-2, 2],
  [-3, 3],
]

/** Every neighbour of `c`, with a label, in the fixed search order. */
export function neighbours(
  c: Candidate,
  opts: Pick<RefineOptions, 'steps' | 'forcedFirst' | 'orders' | 'spaceSets'>,
): { move: string; cand: Candidate }[] {
  const out: { move: string; cand: Candidate }[] = []
  const k = c.keySteps
  const firstFree = Math.max(1, opts.forcedFirst)
  const sets = opts.spaceSets ?? []
  // a key move keeps each segment's spaces; spaces that are the schedule's everywhere are
  // dropped, so one plan has one form (and one judging run)
  const withSpaces = (keySteps: number[], orders: number[], spaces = c.spaces?.slice()) =>
    spaces && spaces.some((v) => v !== sets[0])
      ? { keySteps, orders, spaces }
      : { keySteps, orders }
  for (let m = 0; m < k.length; m++) {
    for (const r of opts.orders) {
      if (r === c.orders[m]) continue
      const orders = c.orders.slice()
      orders[m] = r
      out.push({
        move: `order of segment after ${k[m]}: ${c.orders[m]} -> ${r}`,
        cand: withSpaces(k.slice(), orders),
      })
    }
  }
  if (sets.length > 1) {
    const now = c.spaces ?? k.map(() => sets[0])
    for (let m = 0; m < k.length; m++) {
      for (const set of sets) {
        if (set === now[m]) continue
        const spaces = now.slice()
        spaces[m] = set
        out.push({
          move: `spaces of segment after ${k[m]}: ${now[m]} -> ${set}`,
          cand: withSpaces(k.slice(), c.orders.slice(), spaces),
        })
      }
    }
  }
  for (const round of SHIFT_ROUNDS) {
    for (let m = 0; m < k.length; m++) {
      if (k[m] < firstFree) continue
      for (const d of round) {
        const t = k[m] + d
        const lo = m > 0 ? k[m - 1] : -1
        const hi = m + 1 < k.length ? k[m + 1] : opts.steps
        if (t <= lo || t >= hi || t < firstFree) continue
        const keys = k.slice()
        keys[m] = t
        out.push({ move: `shift key ${k[m]} -> ${t}`, cand: withSpaces(keys, c.orders.slice()) })
      }
    }
  }
  for (let m = 0; m < k.length; m++) {
    if (k[m] < firstFree) continue
    const keys = k.filter((_, x) => x !== m)
    const orders = c.orders.filter((_, x) => x !== m)
    const spaces = c.spaces?.filter((_, x) => x !== m)
    let gap = -1
    let at = -1
    keys.forEach((t, x) => {
      const end = x + 1 < keys.length ? keys[x + 1] : opts.steps
      if (end - t > gap) {
        gap = end - t
        at = x
      }
    })
    if (gap < 2) continue
    const t = keys[at] + Math.floor(gap / 2)
    if (t === k[m]) continue
    keys.splice(at + 1, 0, t)
    orders.splice(at + 1, 0, orders[at])
    spaces?.splice(at + 1, 0, spaces[at])
    out.push({ move: `move key ${k[m]} -> ${t}`, cand: withSpaces(keys, orders, spaces) })
  }
  return out
}

/** Identifies a candidate: its keys, orders and (where it has them) per-segment spaces. */
export const candidateKey = (c: Candidate) =>
  `${c.keySteps.join(',')}|${c.orders.join(',')}${c.spaces ? `|${c.spaces.join(',')}` : ''}`

export async function refine(start: Candidate, opts: RefineOptions): Promise<RefineResult> {
  const seen = new Map<string, number>()
  let evals = 0
  const judge = async (c: Candidate) => {
    const key = candidateKey(c)
    const hit = seen.get(key)
    if (hit !== undefined) return hit
    evals++
    const e = await opts.evaluate(c)
    seen.set(key, e)
    return e
  }
  const startError = await judge(start)
  let best = start
  let error = startError
  const moves: AcceptedMove[] = []
  let list = neighbours(best, opts)
  let at = 0
  let sinceImprovement = 0
  while (evals < opts.maxEvals && list.length > 0 && sinceImprovement < list.length) {
    const { move, cand } = list[at % list.length]
    at++
    sinceImprovement++
    const e = await judge(cand)
    if (e < error) {
      best = cand
      error = e
      moves.push({ move, error: e, cand, evals })
      list = neighbours(best, opts)
      sinceImprovement = 0
    }
  }
  return { start, startError, best, error, moves, evals }
}

/**
 * The climb stopped after `runs` runs: its best plan then, its error and the moves that led
 * there. Exactly what `refine` with `maxEvals: runs` returns (the walk is deterministic and a
 * plan judged before cannot improve on the best), without running it again.
 */
export function stateAfter(
  r: RefineResult,
  runs: number,
): { best: Candidate; error: number; moves: AcceptedMove[] } {
  const moves = r.moves.filter((m) => m.evals <= runs)
  const last = moves.at(-1)
  return last
    ? { best: last.cand, error: last.error, moves }
    : { best: r.start, error: r.startError, moves }
}

/** Steps 0..forced-1, then budget-forced distinct steps drawn from forced..steps-1, sorted. */
export function randomKeys(
  steps: number,
  budget: number,
  forced: number,
  next: () => number,
): number[] {
  const pool = Array.from({ length: steps - forced }, (_, k) => forced + k)
  for (let k = pool.length - 1; k > 0; k--) {
    const j = Math.floor(next() * (k + 1))
    ;[pool[k], pool[j]] = [pool[j], pool[k]]
  }
  const rest = pool.slice(0, budget - forced).sort((a, b) => a - b)
  return [...Array.from({ length: forced }, (_, t) => t), ...rest]
}
