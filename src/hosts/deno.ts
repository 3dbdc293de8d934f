/**
 * The same app on Deno: `deno run -A src/hosts/deno.ts` (BACKEND=webgpu with
 * --unstable-webgpu for onnxruntime-web's WebGPU backend). See local.ts for the environment.
 */
import { localApp, port } from './local.ts'

const app = await localApp()
Deno.serve(
  {
    hostname: '127.0.0.1',
    port: port(),
    onListen: ({ port }) => console.log(`dpcache-edge listening on http://127.0.0.1:${port}`),
  },
  app.fetch,
)
