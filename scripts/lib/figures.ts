/** The three figures written beside each schedule (see scripts/recompute-schedules.ts). */
import { oneStepErrors, type Pact } from '../../src/core/pact.ts'
import type { Plan } from '../../src/core/planner.ts'
import { keyStepChart, linePlot, stackSvgs } from './svg.ts'

export function scheduleFigures(
  model: string,
  pact: Pact,
  includeArrival: boolean,
  plans: readonly Plan[],
  extra: readonly { name: string; plans: readonly Plan[] }[] = [],
) {
  const n = pact.steps
  const oneStep = oneStepErrors(pact, includeArrival)
  const errors = linePlot({
    title: `${model}, ${n} steps: one-step forecast error`,
    xLabel: 'forecast step',
    yLabel: 'error (calibration mean)',
    series: [{ name: 'from keys i-1, i', points: oneStep }],
    logY: true,
  })
  const costPlot = linePlot({
    title: `${model}, ${n} steps: expected cost vs budget`,
    xLabel: 'budget K (trunk evaluations)',
    yLabel: 'path cost',
    series: [
      { name: 'exact DP', points: plans.map((p) => [p.budget, p.cost] as const) },
      ...extra.map((e) => ({
        name: e.name,
        points: e.plans.map((p) => [p.budget, p.cost] as const),
        dashed: true,
      })),
    ],
    logY: true,
  })
  // On a log axis the two cost curves overlap to the pixel: plot the saving itself.
  const savings = extra.map((e) => ({
    name: `vs ${e.name}`,
    points: plans.flatMap((p) => {
      const other = e.plans.find((q) => q.budget === p.budget)
      return other && Number.isFinite(other.cost) && other.cost > 0
        ? [[p.budget, (100 * (other.cost - p.cost)) / other.cost] as const]
        : []
    }),
  }))
  const costs = savings.some((sv) => sv.points.length > 0)
    ? stackSvgs([
        costPlot,
        linePlot({
          title: `${model}, ${n} steps: cost saved by the exact planner`,
          xLabel: 'budget K (trunk evaluations)',
          yLabel: '% lower path cost',
          series: savings,
          zeroLine: true,
          height: 300,
        }),
      ])
    : costPlot
  const wanted = [4, 6, 8, 10, 13, 17, 25].map((k) => Math.round((k * n) / 50))
  const rows = plans
    .filter((p, k, all) => wanted.includes(p.budget) || k === all.length - 1)
    .filter((p, k, all) => all.findIndex((q) => q.budget === p.budget) === k)
    .map((p) => ({ label: `K=${p.budget} (${(n / p.budget).toFixed(1)}x)`, keys: p.keySteps }))
  const keys = keyStepChart(`${model}, ${n} steps: key steps chosen by the exact planner`, n, rows)
  return { errors, costs, keys }
}
