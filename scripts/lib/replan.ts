/**
 * Replays the deterministic part of a recipe on a committed tensor: reads
 * `<model>/<steps>.pact.npy` (+ `.pact4.npy`) and its provenance `.pact.json`, plans with the
 * recorded options and the recorded refinement result, and returns the files that makes. CI
 * compares them byte for byte with the committed ones (scripts/replan.test.ts); `npm run
 * schedules -- --model M --replan` rewrites them (no calibration).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseNpy } from '../../src/core/npy.ts'
import { parseSchedule } from '../../src/core/schedule.ts'
import { planFiles, type PlanningInput } from './plan-and-write.ts'
import { forecasterOf, hillClimb, type Recipe } from './recipe.ts'

interface Provenance {
  modelSha256?: string | null
  shift?: number | null
  forecaster: PlanningInput['forecaster']
  calibration: PlanningInput['calibration']
}

export async function replanFiles(
  outDir: string,
  recipe: Recipe,
  steps: number,
): Promise<ReturnType<typeof planFiles>> {
  const dir = join(outDir, recipe.model)
  const prov = JSON.parse(await readFile(join(dir, `${steps}.pact.json`), 'utf8')) as Provenance
  const npy = parseNpy(new Uint8Array(await readFile(join(dir, `${steps}.pact.npy`))))
  const pact = { steps, data: Float64Array.from(npy.data) }
  const pact4 =
    recipe.forecaster.cost === '4d'
      ? {
          steps,
          data: Float64Array.from(
            parseNpy(new Uint8Array(await readFile(join(dir, `${steps}.pact4.npy`)))).data,
          ),
        }
      : undefined
  // files written before the provenance recorded the model hash and shift: take them from the schedule
  let { modelSha256, shift } = prov
  if (modelSha256 === undefined || shift === undefined) {
    const s = parseSchedule(JSON.parse(await readFile(join(dir, `${steps}.json`), 'utf8')))
    modelSha256 ??= s.modelSha256
    shift = shift === undefined ? s.solver.shift : shift
  }
  const forecaster = forecasterOf(recipe)
  // per-segment orders: one tensor per order beside the main one (written by planFiles)
  const byOrder = recipe.forecaster.orders
    ? await Promise.all(
        recipe.forecaster.orders.map(async (order) => ({
          order,
          pact:
            order === forecaster.order
              ? pact
              : {
                  steps,
                  data: Float64Array.from(
                    parseNpy(
                      new Uint8Array(await readFile(join(dir, `${steps}.pact-order${order}.npy`))),
                    ).data,
                  ),
                },
        })),
      )
    : undefined
  if (JSON.stringify(forecaster) !== JSON.stringify(prov.forecaster)) {
    throw new Error(
      `${dir}/${steps}.pact.json was built with ${JSON.stringify(prov.forecaster)}, the recipe says ${JSON.stringify(forecaster)}`,
    )
  }
  return planFiles({
    model: recipe.model,
    pact,
    pact4,
    modelSha256: modelSha256 ?? null,
    shift: shift ?? null,
    calibration: prov.calibration,
    forecaster,
    planner: {
      forcedFirst: recipe.planner.forcedFirst,
      forcedLast: recipe.planner.forcedLast,
      maxJump: recipe.planner.maxJump ?? undefined,
    },
    refined: recipe.refinement?.plans[String(steps)],
    byOrder,
    refinement: hillClimb(recipe),
  })
}
