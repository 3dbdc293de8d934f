/**
 * WebGPU vs wasm, in Deno (navigator.gpu). On a machine without a GPU, Mesa's software Vulkan
 * driver (llvmpipe, Debian package mesa-vulkan-drivers) provides the adapter; where none can be
 * had the test is skipped with the reason printed.
 *   deno test -A --unstable-webgpu test/webgpu/webgpu.deno.ts  (npm run test:webgpu: test/webgpu/run.sh)
 */
import { StaticMaskPolicy } from '../../src/core/policy.ts'
import { sample } from '../../src/core/sampler.ts'
import { flowEuler } from '../../src/core/solver.ts'
import { maxAbsDiff } from '../../src/core/tensor.ts'
import { loadModel } from '../../src/runtime/engine.ts'
import { loadOrt } from '../../src/runtime/ort.ts'

const adapter = await (
  navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }
).gpu?.requestAdapter()
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
        try {
          return await sample(model.denoiser, flowEuler, {
            steps: m.steps,
            classes: [3, 7],
            seeds: [1, 2],
            guidance: 2,
            order: 1,
            policy: new StaticMaskPolicy(m.mask),
          })
        } finally {
          // a session left to process exit on the software adapter once aborted the test
          // process ("double free or corruption") after every test had passed
          await model.release()
        }
      }
      const wasm = await run('wasm')
      const gpu = await run('webgpu')
      // the session really ran on a WebGPU device, not a silent CPU fallback
      const ort = await loadOrt({ backend: 'webgpu' })
      const device = await (ort.env.webgpu as { device?: Promise<unknown> }).device
      if (!device) throw new Error('onnxruntime-web created no WebGPU device')
      const diff = maxAbsDiff(wasm.images.data, gpu.images.data)
      console.log(
        `${m.dir}: max |webgpu - wasm| = ${diff.toExponential(2)} over ${wasm.images.data.length} pixels`,
      )
      if (gpu.nfe !== wasm.nfe) throw new Error(`NFE differs: ${gpu.nfe} vs ${wasm.nfe}`)
      if (!(diff < 2e-2)) throw new Error(`webgpu output differs from wasm by ${diff}`)
    },
  })
}

// The Deno host on WebGPU, as a GPU machine would run it: it listens at once, answers /readyz
// 503 while its graphs compile their shaders at every batch size it serves, reports ready only
// when warm, and then its first generate is no slower than 3x the ones after it (before
// warm-up existed, the first request on WebGPU took a minute). MAX_BATCH=1 keeps the warm-up
// of a software adapter short (rows 1 and 2).
Deno.test({
  name: 'Deno host with BACKEND=webgpu: ready only when warm, first generate near steady state',
  ignore: !adapter,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        'run',
        '-A',
        '--unstable-webgpu',
        '--no-check',
        '--node-modules-dir=manual',
        'src/hosts/deno.ts',
      ],
      env: { PORT: '0', BACKEND: 'webgpu', MAX_BATCH: '1' },
      stdout: 'piped',
      stderr: 'inherit',
    }).spawn()
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader()
      let log = ''
      const next = async () => {
        const { value, done } = await reader.read()
        if (done) throw new Error(`deno host exited:\n${log}`)
        log += value
      }
      while (!/listening on (http:\/\/127\.0\.0\.1:\d+)/.test(log)) await next()
      const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)![1]
      const early = await fetch(`${base}/readyz`)
      await early.body?.cancel()
      if (early.status !== 503) throw new Error(`/readyz answered ${early.status} before warm-up`)
      while (!/dpcache-edge ready/.test(log)) await next()
      reader.releaseLock()
      const ready = await fetch(`${base}/readyz`)
      await ready.body?.cancel()
      if (ready.status !== 200) throw new Error(`/readyz answered ${ready.status} after ready`)
      const timed = async () => {
        const t0 = performance.now()
        const res = await fetch(`${base}/v1/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'tiny-dit-mnist',
            class: 4,
            seed: 1,
            steps: 20,
            budget: 20,
            format: 'json',
          }),
        })
        const body = await res.json()
        if (res.status !== 200)
          throw new Error(`generate answered ${res.status}: ${JSON.stringify(body)}`)
        return performance.now() - t0
      }
      const first = await timed()
      const steady = Math.min(await timed(), await timed())
      console.log(
        `webgpu host: first generate ${first.toFixed(0)} ms, steady ${steady.toFixed(0)} ms`,
      )
      if (!(first <= 3 * steady))
        throw new Error(`first generate took ${first} ms, over 3x the steady ${steady} ms`)
    } finally {
      child.kill('SIGTERM')
      await child.status
      await child.stdout.cancel().catch(() => {})
    }
  },
})
