/**
 * CI replay of every shipped recipe: each committed tensor, planned again with the options its
 * model's recipe.json records (and the refinement result it records), must give the committed
 * schedule, provenance and figures byte for byte, and nothing else may sit beside them.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseScheduleIndex } from '../src/core/schedule.ts'
import { readRecipe } from './lib/recipe.ts'
import { replanFiles } from './lib/replan.ts'

const dir = join(import.meta.dirname, '..', 'schedules')

describe('committed schedules replay from their recipes', async () => {
  const index = parseScheduleIndex(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')))

  it.each(index.models.map((m) => [m.model, m.schedules.map((s) => s.steps)] as const))(
    '%s',
    async (model, steps) => {
      const recipe = await readRecipe(dir, model)
      expect(recipe, `${model} has no recipe.json`).toBeDefined()
      expect(recipe!.steps).toEqual(steps)
      const expected = new Set(['recipe.json'])
      for (const n of steps) {
        const { files } = await replanFiles(dir, recipe!, n)
        for (const [path, data] of files) {
          expected.add(path.slice(model.length + 1))
          const bytes = new Uint8Array(await readFile(join(dir, path)))
          const want = typeof data === 'string' ? new TextEncoder().encode(data) : data
          expect(
            Buffer.compare(bytes, want),
            `${path} differs from its replay: rerun npm run schedules -- --model ${model} --replan`,
          ).toBe(0)
        }
      }
      expect((await readdir(join(dir, model))).sort()).toEqual([...expected].sort())
    },
  )
})
