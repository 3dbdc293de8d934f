/**
 * Static files for the Node and Deno hosts, through hono's serve-static of each runtime (the
 * app has already restricted the path to its allowed patterns; serve-static refuses '..' too).
 * Models and schedules come from the folders the engine uses, so the browser samples with
 * exactly the graphs and plans the server does; everything else from the built `public/`.
 */
import type { MiddlewareHandler } from 'hono'
import type { AssetServer } from '../api/pages.ts'

/** `serveStatic` of @hono/node-server or hono/deno: both take a root and a fixed path. */
export type ServeStatic = (opts: { root: string; path: string }) => MiddlewareHandler

export interface AssetDirs {
  /** The build output (`npm run build:web`): index.html and static/. */
  public: string
  models: string
  schedules: string
}

export function fileAssets(serveStatic: ServeStatic, dirs: AssetDirs): AssetServer {
  return async function fileAssets(path, c) {
    const [, top, ...rest] = path.split('/')
    const own = top === 'models' || top === 'schedules'
    const root = own ? dirs[top] : dirs.public
    let missing = false
    const res = await serveStatic({ root, path: own ? rest.join('/') : path.slice(1) })(
      c,
      async () => {
        missing = true
      },
    )
    if (missing || !(res instanceof Response)) return undefined
    res.headers.set('Cache-Control', 'public, max-age=300')
    return res
  }
}
