/**
 * bench:planner: time to plan every budget for N = 50, 100, 200 with each method, on
 * synthetic cost tensors shaped like real ones (cost grows with the gap and the history).
 * Usage: npm run bench:planner [-- --repeats 5]
 */
import { pact4Index, pactIndex, type Pact, type Pact4 } from '../src/core/pact.ts'
import { planAll, PLAN_METHODS } from '../src/core/planner.ts'
import { planAllTriple } from '../src/core/planner-triple.ts'
import { Rng } from '../src/core/rng.ts'

function syntheticPact(steps: number, seed: number): Pact {
  const rng = new Rng(seed)
  const data = new Float64Array(steps * (steps + 1) * (steps + 1)).fill(Infinity)
  for (let i = 0; i < steps; i++) {
    for (let p = 0; p < Math.max(i, 1); p++) {
      for (let j = i + 1; j <= steps; j++) {
        data[pactIndex(steps, p, i, j)] =
          ((j - i) / steps) ** 2 * (1 + rng.uniform()) + 0.01 * (i - p) * rng.uniform()
      }
    }
  }
  return { steps, data }
}

/** 4-D tensor for the exact order-2 planner: C4[q][p][i][j]. */
function syntheticPact4(steps: number, seed: number): Pact4 {
  const rng = new Rng(seed)
  const data = new Float64Array(steps * steps * steps * (steps + 1)).fill(Infinity)
  for (let i = 0; i < steps; i++) {
    for (let p = 0; p <= i; p++) {
      for (let q = 0; q <= p; q++) {
        if ((p === i && i > 0) || (q === p && p > 0)) continue
        for (let j = i + 1; j <= steps; j++)
          data[pact4Index(steps, q, p, i, j)] =
            ((j - i) / steps) ** 2 * (1 + rng.uniform()) + 0.01 * (i - q) * rng.uniform()
      }
    }
  }
  return { steps, data }
}

const repeatsArg = process.argv.indexOf('--repeats')
const repeats = repeatsArg > 0 ? Number(process.argv[repeatsArg + 1]) : 5
const rows: string[] = []
rows.push('| N | method | budgets planned | median ms (all budgets) | min ms |')
rows.push('|---|---|---|---|---|')
for (const steps of [50, 100, 200]) {
  const pact = syntheticPact(steps, steps)
  for (const method of PLAN_METHODS) {
    planAll(pact, { method }) // warm-up: JIT and allocation
    const times: number[] = []
    let budgets = 0
    const reps = steps === 200 && method === 'exact' ? Math.min(repeats, 2) : repeats
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now()
      budgets = planAll(pact, { method }).length
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    rows.push(
      `| ${steps} | ${method} | ${budgets} | ${times[Math.floor(times.length / 2)].toFixed(1)} | ${times[0].toFixed(1)} |`,
    )
    console.error(rows[rows.length - 1])
  }
}
for (const steps of [20, 50]) {
  const pact4 = syntheticPact4(steps, steps)
  planAllTriple(pact4)
  const t0 = performance.now()
  const budgets = planAllTriple(pact4).length
  rows.push(
    `| ${steps} | exact order-2 (4-D, key triples) | ${budgets} | ${(performance.now() - t0).toFixed(1)} | (1 run) |`,
  )
  console.error(rows[rows.length - 1])
}
console.log(
  `Planner timing (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, forcedFirst 3, no jump limit)\n`,
)
console.log(rows.join('\n'))
