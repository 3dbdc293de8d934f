/**
 * Exact planning for an order-2 forecaster: the DP state is the last three keys (q, p, i), so
 * each segment is charged C4[q][p][i][j], the error of the forecaster that inference really
 * runs (no `p-1` stand-in). O(K N^4) time for every budget at once; fine for N <= 50.
 */
import { pact4Index, type Pact4 } from './pact.ts'
import { maskOf, resolveMoves, type Plan, type PlanOptions } from './planner.ts'

/** Cost of a key sequence under the 4-D tensor; +Infinity if a segment is infeasible. */
export function pathCost4(pact: Pact4, keySteps: readonly number[]): number {
  const n = pact.steps
  let cost = 0
  for (let m = 0; m < keySteps.length; m++) {
    const i = keySteps[m]
    const p = m >= 1 ? keySteps[m - 1] : 0
    const q = m >= 2 ? keySteps[m - 2] : 0
    const next = m + 1 < keySteps.length ? keySteps[m + 1] : n
    cost += pact.data[pact4Index(n, q, p, i, next)]
  }
  return cost
}

/** Optimal plans for every feasible budget under C4 (method is always exact). */
export function planAllTriple(pact: Pact4, opts: Omit<PlanOptions, 'method'> = {}): Plan[] {
  const n = pact.steps
  if (pact.data.length !== n * n * n * (n + 1)) {
    throw new RangeError(
      `4-D PACT for ${n} steps needs ${n * n * n * (n + 1)} values, got ${pact.data.length}`,
    )
  }
  const moves = resolveMoves(n, opts)
  const c = pact.data
  const nn = n * n
  // back[m][(q * n + p) * n + i] = key before q in the state reached with m + 1 keys
  const back: Int16Array[] = [new Int16Array(nn * n).fill(-1)]
  let layer = new Float64Array(nn * n).fill(Infinity)
  layer[0] = 0 // one key: (0, 0, 0)
  const plans: Plan[] = []
  for (let m = 1; m <= n; m++) {
    const next = new Float64Array(nn * n).fill(Infinity)
    const nextBack = new Int16Array(nn * n).fill(-1)
    let bestEnd = Infinity
    let bestState = -1
    for (let i = m - 1; i < n; i++) {
      const jMax = moves.last(i)
      for (let p = 0; p <= i; p++) {
        for (let q = 0; q <= p; q++) {
          const s = (q * n + p) * n + i
          const d = layer[s]
          if (d === Infinity) continue
          const row = pact4Index(n, q, p, i, 0)
          if (jMax === n && d + c[row + n] < bestEnd) {
            bestEnd = d + c[row + n]
            bestState = s
          }
          // The next state (p, i, j) drops q; (0, 0, 0) -> (0, 0, j) falls out of it.
          for (let j = i + 1; j <= Math.min(jMax, n - 1); j++) {
            const t = (p * n + i) * n + j
            const v = d + c[row + j]
            if (v < next[t]) {
              next[t] = v
              nextBack[t] = q
            }
          }
        }
      }
    }
    if (bestState >= 0) {
      const keys = traceTriples(back, m, bestState, n)
      plans.push({ budget: m, keySteps: keys, mask: maskOf(n, keys), cost: pathCost4(pact, keys) })
    }
    back.push(nextBack)
    layer = next
  }
  return plans
}

function traceTriples(back: Int16Array[], m: number, state: number, n: number): number[] {
  const keys: number[] = []
  let i = state % n
  let p = Math.floor(state / n) % n
  let q = Math.floor(state / (n * n))
  for (let layer = m; layer >= 1; layer--) {
    keys.push(i)
    const before = back[layer - 1][(q * n + p) * n + i]
    i = p
    p = q
    q = before < 0 ? 0 : before
  }
  return keys.reverse()
}
