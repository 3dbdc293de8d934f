/**
 * onnxruntime-node (BACKEND=cpu) against onnxruntime-web wasm on the demo model: the same
 * graphs must give the same numbers, so a host can switch backends without changing images.
 * onnxruntime-node is an optional dependency that CI installs (.npmrc skips only its CUDA
 * download); where it is missing this test fails rather than skips.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { StaticMaskPolicy } from '../core/policy.ts'
import { sample } from '../core/sampler.ts'
import { flowEuler } from '../core/solver.ts'
import { maxAbsDiff } from '../core/tensor.ts'
import { gaussianNoise } from '../core/rng.ts'
import { loadModel } from './engine.ts'
import { availableBackends, BackendUnavailableError, ensureBackend } from './ort.ts'
import { fileScheduleStore } from './schedule-files.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const dir = join(ROOT, 'models', 'tiny-dit-mnist')
const read = async (p: string) => new Uint8Array(await readFile(p))
const wasm = await loadModel(dir, read, { backend: 'wasm' })
const cpu = await loadModel(dir, read, { backend: 'cpu', threads: 2 })
const TOL = 1e-4

describe('native cpu backend (onnxruntime-node) matches wasm', () => {
  it('is available on Node, and webgpu is refused with the reason and the alternatives', async () => {
    expect(await availableBackends()).toEqual(expect.arrayContaining(['wasm', 'cpu']))
    const err = await ensureBackend('webgpu').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendUnavailableError)
    expect((err as Error).message).toMatch(
      /'webgpu' cannot start: .*not node.*work here: wasm, cpu/,
    )
  })

  it('gives the same trunk and head outputs at batch 1 and 5', async () => {
    for (const rows of [1, 5]) {
      const x = { data: gaussianNoise(7 + rows, rows * 28 * 28), dims: [rows, 1, 28, 28] }
      const labels = Int32Array.from({ length: rows }, (_, k) => (k * 3) % 11)
      const hw = await wasm.denoiser.trunk(x, 0.37, labels)
      const hc = await cpu.denoiser.trunk(x, 0.37, labels)
      expect(hc.dims).toEqual(hw.dims)
      expect(maxAbsDiff(hw.data, hc.data)).toBeLessThan(TOL)
      const vw = await wasm.denoiser.head(hw, x, 0.37, labels)
      const vc = await cpu.denoiser.head(hw, x, 0.37, labels)
      expect(vc.dims).toEqual(vw.dims)
      expect(maxAbsDiff(vw.data, vc.data)).toBeLessThan(TOL)
      // and the outputs are not trivially equal (e.g. all zeros)
      expect(Math.max(...vw.data.map(Math.abs))).toBeGreaterThan(0.1)
    }
  })

  it('generates the same images (50 steps, K = 10 schedule, guidance, batch 2)', async () => {
    const schedule = (await fileScheduleStore(join(ROOT, 'schedules')).get('tiny-dit-mnist', 50))!
    const plan = schedule.plans.find((p) => p.budget === 10)!
    const run = (m: typeof wasm) =>
      sample(m.denoiser, flowEuler, {
        steps: 50,
        classes: [3, 8],
        seeds: [11, 12],
        guidance: m.manifest.defaultGuidance,
        order: schedule.forecaster.order,
        shift: schedule.solver.shift ?? undefined,
        policy: new StaticMaskPolicy(plan.mask),
      })
    const [a, b] = [await run(wasm), await run(cpu)]
    expect(b.keySteps).toEqual(a.keySteps)
    const diff = maxAbsDiff(a.images.data, b.images.data)
    console.log(`max |cpu - wasm| over a generated pair: ${diff.toExponential(2)}`)
    expect(diff).toBeLessThan(TOL)
  })
})
