/**
 * The playground's three plan figures as inline SVG strings (viewBox-scaled, so they fit a
 * phone): key steps on the step axis, expected cost against budget, and the one-step forecast
 * error per step with the chosen key steps over it.
 */

const W = 600
const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`)
const fmt = (v: number) =>
  v === 0 || Math.abs(v) >= 100
    ? v.toFixed(0)
    : Math.abs(v) < 0.01
      ? v.toExponential(0)
      : v.toPrecision(2)

/** A row of N cells, filled where the trunk runs (mask '1'), with step numbers every 5/10. */
export function keyAxis(mask: string): string {
  const n = mask.length
  const left = 10
  const cell = (W - 2 * left) / n
  const every = n > 30 ? 10 : 5
  const cells = [...mask]
    .map((m, i) => {
      const x = left + i * cell
      const cls = m === '1' ? 'key' : 'skip'
      return `<rect class="${cls}" x="${x.toFixed(1)}" y="8" width="${Math.max(cell - 1, 1).toFixed(1)}" height="26"><title>step ${i}: ${m === '1' ? 'transformer' : 'forecast'}</title></rect>`
    })
    .join('')
  const ticks = Array.from({ length: Math.floor((n - 1) / every) + 1 }, (_, k) => k * every)
    .map((i) => `<text x="${(left + (i + 0.5) * cell).toFixed(1)}" y="50">${i}</text>`)
    .join('')
  return `<svg class="axis" viewBox="0 0 ${W} 56" role="img" aria-label="key steps">${cells}${ticks}</svg>`
}

export interface LinePlot {
  points: readonly (readonly [number, number])[]
  xLabel: string
  yLabel: string
  logY?: boolean
  /** One point drawn larger (the chosen budget). */
  mark?: readonly [number, number]
  /** x positions drawn as faint vertical lines (the chosen key steps). */
  rules?: readonly number[]
  /** A horizontal dashed line (e.g. the cost bound). */
  level?: number
}

export function linePlot(p: LinePlot): string {
  const H = 220
  const m = { l: 60, r: 12, t: 10, b: 36 }
  const pts = p.points.filter(([, y]) => Number.isFinite(y) && (!p.logY || y > 0))
  if (pts.length === 0)
    return `<svg viewBox="0 0 ${W} ${H}"><text x="20" y="40">no data</text></svg>`
  const fy = p.logY ? Math.log10 : (v: number) => v
  const xs = [...pts.map(([x]) => x), ...(p.rules ?? [])]
  const ys = pts.map(([, y]) => fy(y))
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)]
  if (y1 - y0 < 1e-12) [y0, y1] = [y0 - 1, y1 + 1]
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r)
  const sy = (y: number) => H - m.b - ((fy(y) - y0) / (y1 - y0)) * (H - m.t - m.b)
  const path = pts
    .map(([x, y], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
    .join('')
  const rules = (p.rules ?? [])
    .map(
      (x) =>
        `<line class="rule" x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${m.t}" y2="${H - m.b}"/>`,
    )
    .join('')
  const level =
    p.level !== undefined && (!p.logY || p.level > 0)
      ? `<line class="level" x1="${m.l}" x2="${W - m.r}" y1="${sy(p.level).toFixed(1)}" y2="${sy(p.level).toFixed(1)}"/>`
      : ''
  const mark = p.mark
    ? `<circle class="mark" cx="${sx(p.mark[0]).toFixed(1)}" cy="${sy(p.mark[1]).toFixed(1)}" r="5"/>`
    : ''
  const yTicks = [y0, (y0 + y1) / 2, y1].map((t) => {
    const v = p.logY ? 10 ** t : t
    const y = H - m.b - ((t - y0) / (y1 - y0)) * (H - m.t - m.b)
    return `<text class="yt" x="${m.l - 4}" y="${(y + 4).toFixed(1)}">${fmt(v)}</text>`
  })
  const xTicks = [x0, Math.round((x0 + x1) / 2), x1].map(
    (x) => `<text x="${sx(x).toFixed(1)}" y="${H - m.b + 16}">${x}</text>`,
  )
  return (
    `<svg class="plot" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(p.yLabel)}">` +
    `<rect class="frame" x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}"/>` +
    rules +
    level +
    `<path class="line" d="${path}"/>${mark}${yTicks.join('')}${xTicks.join('')}` +
    `<text class="label" x="${(W + m.l) / 2}" y="${H - 4}">${esc(p.xLabel)}</text>` +
    `<text class="label" transform="translate(12 ${(H - m.b) / 2}) rotate(-90)">${esc(p.yLabel)}${p.logY ? ' (log)' : ''}</text>` +
    `</svg>`
  )
}
