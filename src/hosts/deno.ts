/**
 * The same app on Deno: `deno run -A src/hosts/deno.ts` (BACKEND=webgpu with
 * --unstable-webgpu for onnxruntime-web's WebGPU backend). See local.ts for the environment.
 */
import { serveStatic } from 'hono/deno'
import { hostEnv, localApp, port } from './local.ts'

const cfg = hostEnv()
const app = await localApp(cfg, serveStatic)

// Deno builds request.url from the Host header, so `Host: x/v1/generate#` on POST /public/x
// would route to generate. RFC 9112 says a server answers 400 to an invalid Host; once Host is
// a plain authority, the URL's path is the request line's.
const AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/

Deno.serve(
  {
    hostname: '127.0.0.1',
    port: port(cfg),
    onListen: ({ port }) => console.log(`dpcache-edge listening on http://127.0.0.1:${port}`),
  },
  (request) => {
    if (!AUTHORITY.test(request.headers.get('host') ?? '')) {
      const error = { code: 'bad_request', message: 'invalid Host header', field: 'host' }
      return Response.json({ error }, { status: 400, headers: { Connection: 'close' } })
    }
    return app.fetch(request)
  },
)
