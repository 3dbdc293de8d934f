/**
 * The human face of the API: the playground page at `/`, the interactive reference at
 * `/docs`, and the static files they and the in-browser sampler need. The host serves the
 * bytes (files on Node and Deno, the ASSETS binding on Workers); this module decides which
 * paths may reach it, so nothing outside these patterns is ever read:
 *
 *   /                                  -> /index.html (the playground, built into public/)
 *   /static/<path>                     page bundle, onnxruntime wasm, swagger-ui files
 *   /models/<id>/manifest.json|<g>.onnx model graphs for the browser (sha256-checked there)
 *   /schedules/index.json, /schedules/<id>/<steps>.<json|pact.npy|pact.json|*.svg>
 */
import { MODEL_ID_PATTERN } from '../core/schedule.ts'
import { swaggerUI } from '@hono/swagger-ui'
import { Hono, type Context } from 'hono'
import { notFound } from './errors.ts'

/** Serves one validated URL path from the host's static files; undefined when it is absent. */
export type AssetServer = (path: string, c: Context) => Promise<Response | undefined>

/** Plain names: letters, digits, '.', '_' and '-', never starting with '.' (so never '..'). */
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/
const GRAPH_FILE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\.onnx$/
const SCHEDULE_FILE = /^[0-9]{1,4}\.(json|pact\.npy|pact\.json|errors\.svg|costs\.svg|keys\.svg)$/

/** True for `/static/...` paths made only of plain segments (at most 4 deep). */
export function isStaticPath(path: string): boolean {
  const parts = path.split('/').slice(2)
  return path.startsWith('/static/') && parts.length <= 4 && parts.every((p) => SEGMENT.test(p))
}

export function pageRoutes(assets: AssetServer): Hono {
  const app = new Hono()
  // the 404 envelope directly: a missing file is known to be a 404 here, with no need for the
  // app's method-aware not-found handler
  const serve = async (c: Context, path: string) => (await assets(path, c)) ?? notFound(c)
  app.get('/', (c) => serve(c, '/index.html'))
  app.get(
    '/docs',
    swaggerUI({
      title: 'dpcache-edge API',
      url: '/openapi.json',
      // swagger-ui-dist, copied into public/static by the build: no CDN at run time
      baseUrl: '/static',
      // the default validator badge calls validator.swagger.io; 'none' turns it off
      validatorUrl: 'none',
    }),
  )
  app.get('/static/*', (c) => (isStaticPath(c.req.path) ? serve(c, c.req.path) : notFound(c)))
  app.get('/models/:model/:file', (c) => {
    const { model, file } = c.req.param()
    const ok = MODEL_ID_PATTERN.test(model) && (file === 'manifest.json' || GRAPH_FILE.test(file))
    return ok ? serve(c, `/models/${model}/${file}`) : notFound(c)
  })
  app.get('/schedules/index.json', (c) => serve(c, '/schedules/index.json'))
  app.get('/schedules/:model/:file', (c) => {
    const { model, file } = c.req.param()
    const ok = MODEL_ID_PATTERN.test(model) && SCHEDULE_FILE.test(file)
    return ok ? serve(c, `/schedules/${model}/${file}`) : notFound(c)
  })
  return app
}
