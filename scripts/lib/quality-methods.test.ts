import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { loadModel } from '../../src/runtime/engine.ts'
import { keysRecipe, runRecipe, staticRecipe, teacacheRecipe } from './quality-methods.ts'

const read = async (p: string) => new Uint8Array(await readFile(p))

describe('static recipes', () => {
  it('record the steps where the trunk really runs; adaptive ones record none', async () => {
    const { denoiser } = await loadModel('src/runtime/testdata/toy-single', read)
    const recipe = keysRecipe(10, [0, 3, 7], 1, [0, 1, 2])
    expect(recipe.keySteps).toEqual([0, 3, 7])
    expect(staticRecipe('1100000001', 1).keySteps).toEqual([0, 1, 9])
    // the trunk's steps, as the sampler counts them
    const out = await runRecipe(denoiser, recipe, [{ seed: 1, class: 0 }], 2, 1)
    expect(out.nfe).toBe(recipe.keySteps!.length)
    expect(teacacheRecipe(0.1, 10).keySteps).toBeUndefined()
  })
})
