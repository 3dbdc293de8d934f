/**
 * Small dependency-free SVG charts for the schedule and benchmark figures: line plots with
 * axes, ticks and a legend, and a key-step strip chart. Output is deterministic text.
 */

export interface Series {
  name: string
  points: readonly (readonly [number, number])[]
  dashed?: boolean
}

export interface LinePlot {
  title: string
  xLabel: string
  yLabel: string
  series: readonly Series[]
  logY?: boolean
  /** Draw the y = 0 line (linear axes only). */
  zeroLine?: boolean
  width?: number
  height?: number
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#17becf',
]
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** One notation for a whole axis: all plain, or all `m×10^k` as `me-k`, never a mix. */
export function tickLabels(ticks: readonly number[]): string[] {
  const exp = ticks.some((t) => t !== 0 && (Math.abs(t) >= 1e5 || Math.abs(t) < 1e-3))
  return ticks.map((t) =>
    exp && t !== 0 ? t.toExponential(0).replace('e+', 'e') : Number(t.toPrecision(3)).toString(),
  )
}

/**
 * Ticks for a log axis spanning 10^lo..10^hi, always at m×10^k with m from a fixed ladder, so
 * every log plot reads the same way: decades when the range is wide, 1-2-5 within a few
 * decades, 1..9 within one.
 */
export function logTicks(lo: number, hi: number): number[] {
  const span = hi - lo
  const ladder = span > 6 ? [1] : span >= 2 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9]
  const every = span > 12 ? Math.ceil(span / 8) : 1
  const ticks: number[] = []
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    if (k % every !== 0) continue
    for (const m of ladder) {
      const t = Number((m * 10 ** k).toPrecision(12))
      if (Math.log10(t) >= lo - 1e-9 && Math.log10(t) <= hi + 1e-9) ticks.push(t)
    }
  }
  return ticks
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (hi <= lo) return [lo]
  const raw = (hi - lo) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const ticks: number[] = []
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step)
    ticks.push(Number(t.toPrecision(12)))
  return ticks
}

export function linePlot(p: LinePlot): string {
  const W = p.width ?? 720
  const H = p.height ?? 420
  const m = { l: 70, r: 180, t: 40, b: 50 }
  const pts = p.series
    .flatMap((s) => s.points)
    .filter(([, y]) => Number.isFinite(y) && (!p.logY || y > 0))
  if (pts.length === 0) throw new RangeError(`${p.title}: no finite points to plot`)
  const xs = pts.map(([x]) => x)
  const tf = (y: number) => (p.logY ? Math.log10(y) : y)
  const ys = pts.map(([, y]) => tf(y))
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)]
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1]
  const pad = (y1 - y0) * 0.05
  ;[y0, y1] = [y0 - pad, y1 + pad]
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r)
  const sy = (y: number) => H - m.b - ((tf(y) - y0) / (y1 - y0)) * (H - m.t - m.b)
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  )
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(
    `<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
  )
  const yTicks = p.logY ? logTicks(y0, y1) : niceTicks(y0, y1)
  const yLabels = tickLabels(yTicks)
  yTicks.forEach((t, k) => {
    const y = sy(t)
    if (y < m.t - 1 || y > H - m.b + 1) return
    out.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`,
    )
    out.push(
      `<text x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${yLabels[k]}</text>`,
    )
  })
  const xTicks = niceTicks(x0, x1, 8)
  const xLabels = tickLabels(xTicks)
  xTicks.forEach((t, k) => {
    const x = sx(t)
    out.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t}" y2="${H - m.b}" stroke="#f0f0f0"/>`,
    )
    out.push(
      `<text x="${x.toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${xLabels[k]}</text>`,
    )
  })
  if (p.zeroLine && !p.logY && y0 < 0 && y1 > 0) {
    out.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${sy(0).toFixed(1)}" y2="${sy(0).toFixed(1)}" stroke="#888"/>`,
    )
  }
  out.push(
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`,
  )
  out.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(p.xLabel)}</text>`,
  )
  out.push(
    `<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel + (p.logY ? ' (log scale)' : ''))}</text>`,
  )
  p.series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length]
    const good = s.points.filter(([, y]) => Number.isFinite(y) && (!p.logY || y > 0))
    const d = good
      .map(([x, y], n) => `${n ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`)
      .join(' ')
    out.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    )
    for (const [x, y] of good)
      out.push(
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${color}"/>`,
      )
    const ly = m.t + 10 + k * 18
    out.push(
      `<line x1="${W - m.r + 12}" x2="${W - m.r + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    )
    out.push(`<text x="${W - m.r + 42}" y="${ly + 4}">${esc(s.name)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** Stacks whole SVG documents (as linePlot returns them) into one, top to bottom. */
export function stackSvgs(parts: readonly string[]): string {
  const sizes = parts.map((svg) => {
    const m = /width="([0-9.]+)" height="([0-9.]+)"/.exec(svg)
    if (!m) throw new RangeError('stackSvgs: a part has no width/height')
    return [Number(m[1]), Number(m[2])] as const
  })
  const W = Math.max(...sizes.map(([w]) => w))
  const H = sizes.reduce((h, [, ph]) => h + ph, 0)
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
  ]
  let y = 0
  parts.forEach((svg, k) => {
    out.push(svg.trim().replace('<svg xmlns="http://www.w3.org/2000/svg" ', `<svg y="${y}" `))
    y += sizes[k][1]
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}

/** One row per plan: the key steps as filled marks on the 0..N-1 step axis. */
export function keyStepChart(
  title: string,
  steps: number,
  rows: readonly { label: string; keys: readonly number[] }[],
): string {
  const W = 760
  const rowH = 26
  const m = { l: 110, r: 20, t: 44, b: 40 }
  const H = m.t + m.b + rows.length * rowH
  const cell = (W - m.l - m.r) / steps
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  )
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`)
  out.push(
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  )
  rows.forEach((r, k) => {
    const y = m.t + k * rowH
    out.push(
      `<text x="${m.l - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(r.label)}</text>`,
    )
    for (let s = 0; s < steps; s++) {
      const on = r.keys.includes(s)
      out.push(
        `<rect x="${(m.l + s * cell + 1).toFixed(1)}" y="${y + 4}" width="${(cell - 2).toFixed(1)}" height="${rowH - 8}" fill="${on ? '#1f77b4' : '#eceff3'}"/>`,
      )
    }
  })
  const axisY = m.t + rows.length * rowH + 14
  for (let s = 0; s < steps; s += Math.max(1, Math.round(steps / 10))) {
    out.push(
      `<text x="${(m.l + (s + 0.5) * cell).toFixed(1)}" y="${axisY}" text-anchor="middle">${s}</text>`,
    )
  }
  out.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle">sampling step (blue: trunk runs; grey: forecast + head only)</text>`,
  )
  out.push('</svg>')
  return out.join('\n') + '\n'
}
