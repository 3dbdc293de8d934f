/**
 * The same app on Deno: `deno run -A src/hosts/deno.ts` (BACKEND=webgpu with --unstable-webgpu
 * for onnxruntime-web's WebGPU backend). Listens at once, ready when warm, exit 2 with one line
 * when the backend cannot start. See local.ts for the environment.
 */
import { serveStatic } from 'hono/deno'
import { fail, hostEnv, listenOn, localHost } from './local.ts'

const cfg = hostEnv()
const { app, ready } = localHost(cfg, serveStatic)
ready.then(() => console.log('dpcache-edge ready'), fail)
const { hostname, port } = listenOn(cfg)

// Deno builds request.url from the Host header, so `Host: x/v1/generate#` on POST /public/x
// would route to generate. RFC 9112 says a server answers 400 to an invalid Host; once Host is
// a plain authority, the URL's path is the request line's.
const AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/

Deno.serve(
  {
    hostname,
    port,
    onListen: ({ port }) => console.log(`dpcache-edge listening on http://${hostname}:${port}`),
  },
  (request) => {
    if (!AUTHORITY.test(request.headers.get('host') ?? '')) {
      const error = { code: 'bad_request', message: 'invalid Host header', field: 'host' }
      return Response.json({ error }, { status: 400, headers: { Connection: 'close' } })
    }
    return app.fetch(request)
  },
)
