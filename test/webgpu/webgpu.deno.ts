/**
 * WebGPU vs wasm, in Deno (navigator.gpu). On a machine without a GPU, Mesa's software Vulkan
 * driver (llvmpipe, Debian package mesa-vulkan-drivers) provides the adapter; where none can be
 * had the test is skipped with the reason printed.
 *   deno test -A --unstable-webgpu test/webgpu/webgpu.deno.ts
 */
import { StaticMaskPolicy } from '../../src/core/policy.ts'
import { sample } from '../../src/core/sampler.ts'
import { flowEuler } from '../../src/core/solver.ts'
import { maxAbsDiff } from '../../src/core/tensor.ts'
import { loadModel } from '../../src/runtime/engine.ts'
import { loadOrt } from '../../src/runtime/ort.ts'

const adapter = await (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()
const reason = adapter ? '' : 'no WebGPU adapter (install mesa-vulkan-drivers for a software one)'
if (reason) console.log(`skipping WebGPU tests: ${reason}`)

const read = (p: string) => Deno.readFile(p)
const models = [
  { dir: 'src/runtime/testdata/toy-single', steps: 10, mask: '1101001001' },
  { dir: 'models/tiny-dit-mnist', steps: 20, mask: '11101010010010010001' },
].filter((m) => {
  try {
    Deno.statSync(`${m.dir}/manifest.json`)
    return true
  } catch {
    return false
  }
})

for (const m of models) {
  Deno.test({
    name: `webgpu matches wasm on ${m.dir} (${m.steps} steps, cached schedule, guidance 2, batch 2)`,
    ignore: !adapter,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const run = async (backend: 'wasm' | 'webgpu') => {
        const model = await loadModel(m.dir, read, { backend })
        const res = await sample(model.denoiser, flowEuler, {
          steps: m.steps,
          classes: [3, 7],
          seeds: [1, 2],
          guidance: 2,
          order: 1,
          policy: new StaticMaskPolicy(m.mask),
        })
        return res
      }
      const wasm = await run('wasm')
      const gpu = await run('webgpu')
      // the session really ran on a WebGPU device, not a silent CPU fallback
      const ort = await loadOrt({ backend: 'webgpu' })
      const device = await (ort.env.webgpu as { device?: Promise<unknown> }).device
      if (!device) throw new Error('onnxruntime-web created no WebGPU device')
      const diff = maxAbsDiff(wasm.images.data, gpu.images.data)
      console.log(`${m.dir}: max |webgpu - wasm| = ${diff.toExponential(2)} over ${wasm.images.data.length} pixels`)
      if (gpu.nfe !== wasm.nfe) throw new Error(`NFE differs: ${gpu.nfe} vs ${wasm.nfe}`)
      if (!(diff < 2e-2)) throw new Error(`webgpu output differs from wasm by ${diff}`)
    },
  })
}
