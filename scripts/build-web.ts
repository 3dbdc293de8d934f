/**
 * `npm run build:web`: assembles public/, the static files every host serves (the Worker as
 * its [assets] directory; Node and Deno for the page and runtime files):
 *
 *   public/index.html, public/static/app/*   the playground (web/ bundled with src/ by vite)
 *   public/static/ort/*.{mjs,wasm}           onnxruntime-web's runtimes (wasm; WebGPU's)
 *   public/static/swagger-ui-dist/*          the /docs assets (no CDN at run time)
 *   public/models/<id>/                      manifest + graphs of each servable model
 *   public/schedules/                        a copy of schedules/
 *   public/.assetsignore                     files over Workers' 25 MiB per-asset limit
 *
 * Built into a temporary folder and swapped in with renames, so a failed build never leaves
 * a half-written public/ behind.
 */
import {
  copyFile,
  cp,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'
import { parseManifest } from '../src/runtime/manifest.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, 'public')
const require = createRequire(import.meta.url)
/** Cloudflare Workers static assets: 25 MiB per file. */
export const ASSET_LIMIT = 25 * 1024 * 1024

// the package's main entry lives in dist/, beside the .wasm runtimes
const ortDist = dirname(require.resolve('onnxruntime-web'))
const swaggerDist = dirname(require.resolve('swagger-ui-dist/package.json'))

/** Model folders whose manifest the runtime accepts, with the files the browser needs. */
async function servableModels(modelsDir: string): Promise<{ id: string; files: string[] }[]> {
  const out = []
  for (const id of (await readdir(modelsDir)).sort()) {
    let manifest
    try {
      manifest = parseManifest(
        JSON.parse(await readFile(join(modelsDir, id, 'manifest.json'), 'utf8')),
        id,
      )
    } catch {
      continue // the classifier and data files are not generative models
    }
    const graphs = Object.values(manifest.graphs as Record<string, { file: string }>).map(
      (g) => g.file,
    )
    out.push({ id, files: ['manifest.json', ...graphs] })
  }
  return out
}

async function main() {
  const tmp = `${OUT}.tmp-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  await build({
    root: join(ROOT, 'web'),
    configFile: false,
    logLevel: 'warn',
    base: '/',
    resolve: {
      // onnxruntime-web's builds without an embedded loader: the page imports the runtime's
      // .mjs and .wasm from /static/ort/ (ort.env.wasm.wasmPaths). The wasm backend is the
      // plain build, the same ort-wasm-simd-threaded.{mjs,wasm} the Node host runs, so both
      // compute the same numbers; WebGPU is the asyncify build.
      alias: [
        { find: /^onnxruntime-web$/, replacement: join(ortDist, 'ort.wasm.min.mjs') },
        { find: /^onnxruntime-web\/webgpu$/, replacement: join(ortDist, 'ort.webgpu.min.mjs') },
      ],
    },
    plugins: [
      {
        // should an onnxruntime build name its .wasm with new URL(..., import.meta.url), vite
        // would copy 14-27 MB runtimes into static/app/; the page sets
        // ort.env.wasm.wasmPaths to /static/ort/ instead, so such copies are dropped
        name: 'drop-ort-wasm-copies',
        generateBundle(_, bundle) {
          for (const name of Object.keys(bundle)) if (name.endsWith('.wasm')) delete bundle[name]
        },
      },
    ],
    build: {
      outDir: tmp,
      emptyOutDir: true,
      assetsDir: 'static/app',
      target: 'es2022',
      chunkSizeWarningLimit: 1024,
    },
  })
  const ort = join(tmp, 'static', 'ort')
  await mkdir(ort, { recursive: true })
  for (const build of ['ort-wasm-simd-threaded', 'ort-wasm-simd-threaded.asyncify']) {
    for (const ext of ['.mjs', '.wasm'])
      await copyFile(join(ortDist, build + ext), join(ort, build + ext))
  }
  const swagger = join(tmp, 'static', 'swagger-ui-dist')
  await mkdir(swagger, { recursive: true })
  for (const f of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
    await copyFile(join(swaggerDist, f), join(swagger, f))
  }
  await cp(join(ROOT, 'schedules'), join(tmp, 'schedules'), { recursive: true })
  for (const m of await servableModels(join(ROOT, 'models'))) {
    await mkdir(join(tmp, 'models', m.id), { recursive: true })
    for (const f of m.files)
      await copyFile(join(ROOT, 'models', m.id, f), join(tmp, 'models', m.id, f))
  }
  const tooLarge: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if ((await stat(p)).size > ASSET_LIMIT) tooLarge.push(p.slice(tmp.length + 1))
    }
  }
  await walk(tmp)
  // the Worker skips these (WebGPU's runtime is 26.8 MB): its playground samples on wasm
  await writeFile(join(tmp, '.assetsignore'), tooLarge.map((p) => `${p}\n`).join(''))
  const old = `${OUT}.old-${process.pid}`
  await rename(OUT, old).catch(() => undefined)
  await rename(tmp, OUT)
  await rm(old, { recursive: true, force: true })
  console.log(
    `public/ built (over the Workers asset limit, ignored there: ${tooLarge.join(', ') || 'none'})`,
  )
}

await main()
