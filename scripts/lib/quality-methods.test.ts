import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { Denoiser } from '../../src/core/sampler.ts'
import { flowEuler } from '../../src/core/solver.ts'
import { loadModel } from '../../src/runtime/engine.ts'
import { keysRecipe, runRecipe, staticRecipe, teacacheRecipe } from './quality-methods.ts'

const read = async (p: string) => new Uint8Array(await readFile(p))

describe('static recipes', () => {
  it('record the steps where the trunk really runs; adaptive ones record none', async () => {
    const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
    // the real model, with each trunk call's sigma noted (a step's sigma names the step)
    const seen: number[] = []
    const noting: Denoiser = {
      imageDims: denoiser.imageDims,
      featureDims: denoiser.featureDims,
      nullClass: denoiser.nullClass,
      trunk: (x, sigma, labels) => (seen.push(sigma), denoiser.trunk(x, sigma, labels)),
      head: (h, x, sigma, labels) => denoiser.head(h, x, sigma, labels),
    }
    const recipe = keysRecipe(10, [0, 3, 7], 1, [0, 1, 2])
    expect(recipe.keySteps).toEqual([0, 3, 7])
    expect(staticRecipe('1100000001', 1).keySteps).toEqual([0, 1, 9])
    const out = await runRecipe(noting, recipe, [{ seed: 1, class: 0 }], 2, 1)
    expect(out.nfe).toBe(recipe.keySteps!.length)
    const sigmas = flowEuler.sigmas(10, { shift: 1 })
    expect(seen).toEqual(recipe.keySteps!.map((i) => sigmas[i]))
    expect(teacacheRecipe(0.1, 10).keySteps).toBeUndefined()
  })
})
