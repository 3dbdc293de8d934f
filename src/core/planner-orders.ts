/**
 * Per-segment forecaster orders (schedule v2). Every segment (p, i) -> j is filled by one
 * forecaster order; the anchors are real trunk outputs whatever order used them, so the order
 * of one segment never changes the cost of another. The best plan over keys *and* orders is
 * therefore the exact key DP over the element-wise minimum of the per-order cost tensors, with
 * each segment taking the order that attains that minimum.
 *
 * The tensors must come from the same calibration trajectories (same metric, same arrival
 * rule); an order-2 3-D tensor keeps the paper's `p-1` stand-in for the key before p.
 */
import { pactIndex, type Pact } from './pact.ts'
import { planAll, type Plan, type PlanOptions } from './planner.ts'

export interface OrderedPlan extends Plan {
  /** orders[m]: forecaster order of the steps after keySteps[m]. */
  orders: number[]
}

export interface OrderTensors {
  /** The per-order tensors, e.g. [{ order: 0, pact }, { order: 1, pact }, { order: 2, pact }]. */
  readonly byOrder: readonly { order: number; pact: Pact }[]
}

/** Element-wise minimum over orders, and the order attaining it (lowest order on ties). */
export function minOverOrders(t: OrderTensors): { pact: Pact; argmin: Int8Array } {
  if (t.byOrder.length === 0) throw new RangeError('need at least one order')
  const steps = t.byOrder[0].pact.steps
  const size = t.byOrder[0].pact.data.length
  for (const { order, pact } of t.byOrder) {
    if (pact.steps !== steps || pact.data.length !== size)
      throw new RangeError(`order-${order} tensor has another shape`)
  }
  const sorted = [...t.byOrder].sort((a, b) => a.order - b.order)
  const data = new Float64Array(size).fill(Infinity)
  const argmin = new Int8Array(size).fill(sorted[0].order)
  for (const { order, pact } of sorted) {
    const c = pact.data
    for (let k = 0; k < size; k++) {
      if (c[k] < data[k]) {
        data[k] = c[k]
        argmin[k] = order
      }
    }
  }
  return { pact: { steps, data }, argmin }
}

/** Orders chosen along a key sequence (state (t_{m-1}, t_m) -> t_{m+1}, as pathCost walks it). */
export function segmentOrders(
  argmin: Int8Array,
  steps: number,
  keySteps: readonly number[],
): number[] {
  return keySteps.map((i, m) => {
    const p = m === 0 ? i : keySteps[m - 1]
    const next = m + 1 < keySteps.length ? keySteps[m + 1] : steps
    return argmin[pactIndex(steps, p, i, next)]
  })
}

/** Optimal keys and per-segment orders for every feasible budget, exact over the 3-D state. */
export function planAllOrders(
  t: OrderTensors,
  opts: Omit<PlanOptions, 'method'> = {},
): OrderedPlan[] {
  const { pact, argmin } = minOverOrders(t)
  return planAll(pact, { ...opts, method: 'exact' }).map((p) => ({
    ...p,
    orders: segmentOrders(argmin, pact.steps, p.keySteps),
  }))
}

/** Cost of keys with per-segment orders: segment m is charged by its own order's tensor. */
export function orderedPathCost(
  t: OrderTensors,
  keySteps: readonly number[],
  orders: readonly number[],
): number {
  const steps = t.byOrder[0].pact.steps
  let cost = 0
  keySteps.forEach((i, m) => {
    const tensor = t.byOrder.find((b) => b.order === orders[m])
    if (!tensor) throw new RangeError(`no order-${orders[m]} tensor`)
    const p = m === 0 ? i : keySteps[m - 1]
    const next = m + 1 < keySteps.length ? keySteps[m + 1] : steps
    cost += tensor.pact.data[pactIndex(steps, p, i, next)]
  })
  return cost
}
