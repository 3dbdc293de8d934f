/** Markdown tables for bench:quality: a headline per budget, then every row. */
import { paired, type Paired, type Summary } from './quality-stats.ts'

export interface Row extends Summary {
  steps: number
  budget: number
  method: string
  variant?: string
  setting?: string
  nfe: number
  tuneNfe?: number
  tunePsnr?: number
  msPerImage: number
  ssim: number
  accuracy: number | null
  frechet: number | null
  /** shipped dpcache minus this row, per seed */
  paired: Paired | null
  psnrs: number[]
  /** the trunk's steps, for static methods (so plans can be compared across methods) */
  keySteps?: number[]
}

/**
 * Every row paired again against its setting's shipped row (by the per-seed PSNRs), the way
 * bench:quality pairs them; the shipped row itself and settings without one keep no pairing.
 */
export function repairRows(rows: readonly Row[]): Row[] {
  const shipped = new Map(
    rows
      .filter((r) => r.method === 'dpcache' && !r.variant)
      .map((r) => [`${r.steps}/${r.budget}`, r]),
  )
  return rows.map((r) => {
    const ours = shipped.get(`${r.steps}/${r.budget}`)
    return { ...r, paired: ours && ours !== r ? paired(ours.psnrs, r.psnrs) : null }
  })
}

const f = (v: number | null | undefined, d: number) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d)

/** The DPCache family: the shipped plan's ablations and the paper's own planners. */
const isDpcache = (r: Row) =>
  r.method === 'dpcache' || r.method === 'dpcache-greedy' || r.method === 'dp-2d'
const beats = (r: Row) => r.paired!.diff >= 2 * r.paired!.se && r.paired!.diff > 0

/**
 * Per (steps, K): the shipped schedule against the best other method (by held-out mean PSNR;
 * the paper's greedy planner and the 2-D ablation count, the shipped plan's own ablations do
 * not), the methods it does not lead by two paired standard errors, and the best method that
 * is not a DPCache planner. A setting with no other method in `rows` (a bench run with
 * `--only dpcache`, to be merged later) has no headline.
 */
export function headlines(rows: readonly Row[]) {
  const keys = [...new Set(rows.map((r) => `${r.steps}/${r.budget}`))]
  return keys.flatMap((k) => {
    const here = rows.filter((r) => `${r.steps}/${r.budget}` === k)
    const ours = here.find((r) => r.method === 'dpcache' && !r.variant)!
    const others = here.filter((r) => r.method !== 'dpcache' && r.paired)
    const outside = others.filter((r) => !isDpcache(r))
    if (outside.length === 0) return []
    const best = others.reduce((b, r) => (r.mean > b.mean ? r : b), others[0])
    const bestOutside = outside.reduce((b, r) => (r.mean > b.mean ? r : b), outside[0])
    const close = others.filter((r) => !beats(r))
    return {
      steps: ours.steps,
      budget: ours.budget,
      ours,
      best,
      margin: best.paired!,
      bestOutside,
      close: close.map((r) => r.method + (r.variant ? ` (${r.variant})` : '')),
      met: close.length === 0,
    }
  })
}

const signed = (v: number, d: number) => `${v >= 0 ? '+' : ''}${f(v, d)}`

export function renderReport(setup: Record<string, unknown>, rows: readonly Row[]): string {
  const out: string[] = []
  out.push(`Setup: ${JSON.stringify(setup)}`, '')
  out.push(
    '| steps | K | DPCache (shipped) | best other method | its PSNR | shipped minus best (paired) | seeds won | methods not 2 SE behind | best non-DPCache method: shipped minus it |',
    '|---|---|---|---|---|---|---|---|---|',
  )
  for (const h of headlines(rows)) {
    const label = (r: Row) => r.method + (r.variant ? ` (${r.variant})` : '')
    const name = label(h.best)
    const o = h.bestOutside
    out.push(
      `| ${h.steps} | ${h.budget} | ${f(h.ours.mean, 2)} +- ${f(h.ours.se, 2)} | ${name} | ${f(h.best.mean, 2)} +- ${f(h.best.se, 2)} | ${signed(h.margin.diff, 2)} +- ${f(h.margin.se, 2)} | ${f(100 * h.margin.wins, 0)}% | ${h.close.join(', ') || 'none'} | ${label(o)}: ${signed(o.paired!.diff, 2)} +- ${f(o.paired!.se, 2)} |`,
    )
  }
  out.push('')
  out.push(
    '| steps | K | method | variant / tuned setting | NFE | PSNR dB (mean +- SE) | pooled PSNR | shipped minus this (paired) | shipped wins | tuning PSNR | SSIM | accuracy | Frechet | ms / image |',
  )
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
  for (const r of rows) {
    const label = [r.variant, r.setting].filter(Boolean).join('; ')
    const nfe = r.tuneNfe !== undefined ? `${f(r.nfe, 2)} (tuning ${f(r.tuneNfe, 2)})` : f(r.nfe, 2)
    const p = r.paired
      ? `${r.paired.diff >= 0 ? '+' : ''}${f(r.paired.diff, 2)} +- ${f(r.paired.se, 2)}`
      : '-'
    out.push(
      `| ${r.steps} | ${r.budget} | ${r.method} | ${label} | ${nfe} | ${f(r.mean, 2)} +- ${f(r.se, 2)} | ${f(r.pooled, 2)} | ${p} | ${r.paired ? `${f(100 * r.paired.wins, 0)}%` : '-'} | ${f(r.tunePsnr, 2)} | ${f(r.ssim, 4)} | ${f(r.accuracy, 3)} | ${f(r.frechet, 2)} | ${f(r.msPerImage, 1)} |`,
    )
  }
  return out.join('\n') + '\n'
}
