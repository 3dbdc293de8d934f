/**
 * CI guard for the committed static assets: every schedule under schedules/ validates against
 * the schema, the index lists exactly the files present with their hashes, each calibrated
 * schedule's model hash is the shipped model's, and each cost tensor matches its recorded hash.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseNpy } from '../src/core/npy.ts'
import { parseSchedule, parseScheduleIndex } from '../src/core/schedule.ts'
import { modelFingerprint, parseManifest } from '../src/runtime/manifest.ts'

const root = join(import.meta.dirname, '..')
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('committed schedules', async () => {
  const index = parseScheduleIndex(
    JSON.parse(await readFile(join(root, 'schedules', 'index.json'), 'utf8')),
  )

  it('ships the demo model at 20, 28 and 50 steps', () => {
    const demo = index.models.find((m) => m.model === 'tiny-dit-mnist')
    expect(demo?.schedules.map((s) => s.steps)).toEqual([20, 28, 50])
  })

  it('ships tiny-dit-fashion at 20, 28 and 50 steps, calibrated with the shift its manifest declares', async () => {
    const fashion = index.models.find((m) => m.model === 'tiny-dit-fashion')
    expect(fashion?.schedules.map((s) => s.steps)).toEqual([20, 28, 50])
    const manifest = parseManifest(
      JSON.parse(await readFile(join(root, 'models', 'tiny-dit-fashion', 'manifest.json'), 'utf8')),
      'tiny-dit-fashion',
    )
    expect(manifest.sigma.shift).toBe(3)
    for (const entry of fashion!.schedules) {
      const s = parseSchedule(
        JSON.parse(await readFile(join(root, 'schedules', entry.file), 'utf8')),
      )
      expect(s.solver.shift, entry.file).toBe(manifest.sigma.shift)
      expect(s.calibration.source).toBe('calibrated')
    }
  })

  it('the index lists exactly the schedule files present, with their hashes and budgets', async () => {
    const present: string[] = []
    for (const d of await readdir(join(root, 'schedules'), { withFileTypes: true })) {
      if (!d.isDirectory()) continue
      for (const f of await readdir(join(root, 'schedules', d.name)))
        if (/^[0-9]+\.json$/.test(f)) present.push(`${d.name}/${f}`)
    }
    const listed = index.models.flatMap((m) => m.schedules)
    expect(listed.map((s) => s.file).sort()).toEqual(present.sort())
    for (const entry of listed) {
      const bytes = await readFile(join(root, 'schedules', entry.file))
      expect(sha(bytes), entry.file).toBe(entry.sha256)
      const s = parseSchedule(JSON.parse(bytes.toString('utf8')))
      expect(s.plans.map((p) => p.budget)).toEqual(entry.budgets)
      expect(entry.file).toBe(`${s.model}/${s.steps}.json`)
    }
  })

  it("each calibrated schedule names the shipped model's weights and its tensor's hash", async () => {
    for (const m of index.models) {
      for (const entry of m.schedules) {
        const s = parseSchedule(
          JSON.parse(await readFile(join(root, 'schedules', entry.file), 'utf8')),
        )
        const tensor = new Uint8Array(
          await readFile(join(root, 'schedules', s.calibration.pactFile)),
        )
        expect(sha(tensor), s.calibration.pactFile).toBe(s.calibration.pactSha256)
        const n = s.steps
        expect(parseNpy(tensor).shape).toEqual(
          s.forecaster.cost === '4d' ? [n, n, n, n + 1] : [n, n + 1, n + 1],
        )
        for (const f of s.calibration.pactFiles ?? []) {
          expect(sha(new Uint8Array(await readFile(join(root, 'schedules', f.file)))), f.file).toBe(
            f.sha256,
          )
        }
        if (s.calibration.source !== 'calibrated') continue
        const manifest = parseManifest(
          JSON.parse(await readFile(join(root, 'models', s.model, 'manifest.json'), 'utf8')),
          s.model,
        )
        expect(
          s.modelSha256,
          `${entry.file} was calibrated on other weights: rerun npm run schedules`,
        ).toBe(await modelFingerprint(manifest))
      }
    }
  })
})
