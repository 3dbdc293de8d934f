/**
 * A picture for the docs: the same ten held-out cases (classes 0-9) sampled by several methods
 * at the same NFE, one row per method (labelled), first row the full-step reference.
 *
 *   npx tsx scripts/compare-grid.ts [--budget 10] [--seed 0] [--out docs/compare-k10.png]
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { loadModel } from '../src/runtime/engine.ts'
import { encode } from 'fast-png'
import { fileScheduleStore } from '../src/runtime/schedule-files.ts'
import { drawText, textWidth } from './lib/bitmap-font.ts'
import { taylorseerKeys } from './lib/quality-baselines.ts'
import { keysRecipe, runRecipe, staticRecipe, type Recipe } from './lib/quality-methods.ts'
import { uniformMask } from '../src/core/policy.ts'

const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '10' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'docs/compare-k10.png' },
  },
})
const budget = Number(values.budget)
const model = await loadModel(
  'models/tiny-dit-mnist',
  async (p) => new Uint8Array(await readFile(p)),
)
const schedule = await fileScheduleStore('schedules').get('tiny-dit-mnist', 50)
const plan = schedule?.plans.find((p) => p.budget === budget)
if (!schedule || !plan) throw new Error(`no shipped K=${budget} plan`)
const cases = Array.from({ length: 10 }, (_, k) => ({ seed: Number(values.seed) + k, class: k }))
const rows: [string, Recipe][] = [
  ['full 50 steps', staticRecipe('1'.repeat(50), 1)],
  [
    `DPCache K=${budget}`,
    staticRecipe(
      plan.mask,
      schedule.forecaster.order,
      plan.orders,
      schedule.forecaster.spaces,
      plan.spaces,
    ),
  ],
  // the strongest simple competitors: diffusers' TaylorSeer cache (3 warm-up steps, the W
  // tuned at K = 10 in bench:quality) and even keys with order-1 Taylor
  [`TaylorSeer W=3 K=${budget}`, keysRecipe(50, taylorseerKeys(50, budget, 3), 1)],
  [`uniform + Taylor-1 K=${budget}`, staticRecipe(uniformMask(50, budget), 1)],
  [`uniform reuse K=${budget}`, staticRecipe(uniformMask(50, budget), 0)],
  [`Euler ${budget} steps`, staticRecipe('1'.repeat(budget), 1)],
]
const images: Float32Array[] = []
for (const [label, recipe] of rows) {
  images.push(
    ...(await runRecipe(model.denoiser, recipe, cases, model.manifest.defaultGuidance, 10)).images,
  )
  process.stderr.write(`row: ${label}\n`)
}
// one row per method, labelled on the left, 10 columns, 3x nearest-neighbour upscale, a
// 6-pixel gap between rows
const scale = 3
const side = 28 * scale
const gap = 6
const font = 2
const labelWidth = Math.max(...rows.map(([label]) => textWidth(label, font))) + 24
const width = labelWidth + 10 * side
const height = rows.length * side + (rows.length - 1) * gap
const data = new Uint8Array(width * height).fill(40)
rows.forEach(([label], r) =>
  drawText(
    data,
    width,
    labelWidth - 12 - textWidth(label, font),
    r * (side + gap) + (side - 7 * font) / 2,
    label,
    font,
    235,
  ),
)
images.forEach((img, k) => {
  const top = Math.floor(k / 10) * (side + gap)
  const left = labelWidth + (k % 10) * side
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = img[Math.floor(y / scale) * 28 + Math.floor(x / scale)]
      data[(top + y) * width + left + x] = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)))
    }
  }
})
await writeFile(values.out!, encode({ width, height, data, channels: 1, depth: 8 }))
process.stdout.write(`${values.out}: rows ${rows.map((r) => r[0]).join(' / ')}\n`)
