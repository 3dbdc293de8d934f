import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { sample, type Denoiser } from '../../src/core/sampler.ts'
import { StaticMaskPolicy } from '../../src/core/policy.ts'
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

  it('sample in the forecast spaces they carry (the dpcache row of a v3 schedule)', async () => {
    const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
    const cases = [{ seed: 4, class: 2 }]
    const spaces = ['feature', 'noise']
    const recipe = keysRecipe(10, [0, 4, 7], 1, [1, 2, 1], spaces)
    expect(recipe.spaces).toEqual(spaces)
    const got = (await runRecipe(denoiser, recipe, cases, 2, 1)).images[0]
    const direct = await sample(denoiser, flowEuler, {
      steps: 10,
      classes: [2],
      seeds: [4],
      guidance: 2,
      order: 2,
      orders: [1, 2, 1],
      spaces,
      policy: new StaticMaskPolicy('1000100100'),
    })
    expect(Array.from(got)).toEqual(Array.from(direct.images.data))
    const feature = (
      await runRecipe(denoiser, keysRecipe(10, [0, 4, 7], 1, [1, 2, 1]), cases, 2, 1)
    ).images[0]
    expect(Array.from(feature)).not.toEqual(Array.from(got))
  })
})
