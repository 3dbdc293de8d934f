/**
 * Child processes for the pool test: real Node hosts (`src/hosts/node.ts`, the demo model on
 * wasm) and `wrangler dev` in local mode, all on 127.0.0.1, with no network and no metrics.
 * Every child is killed on cleanup, and on exit if the test runner dies first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const ROOT = join(import.meta.dirname, '..', '..')

const children = new Set<ChildProcess>()
/** Children started as their own process group (wrangler, with workerd under it). */
const leaders = new WeakSet<ChildProcess>()
const scratch: string[] = []

/** Kills a child and, for wrangler (its own process group), workerd under it. */
export function kill(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return
  try {
    if (leaders.has(child)) process.kill(-child.pid!, 'SIGKILL')
    else child.kill('SIGKILL')
  } catch {
    // already gone
  }
}

export function cleanup(): void {
  for (const child of children) kill(child)
  children.clear()
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true })
}
process.on('exit', cleanup)
// wrangler runs in its own process group, out of reach of a Ctrl-C or a kill aimed at the test
// runner's group: take it down here before this process goes
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    cleanup()
    process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15))
  })
}

/** A port nothing listens on right now (the OS picks it; wrangler needs a number up front). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function track(child: ChildProcess, name: string): { log: () => string } {
  children.add(child)
  let log = ''
  const keep = (chunk: Buffer) => {
    log = (log + chunk).slice(-20_000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  child.on('exit', () => children.delete(child))
  return { log: () => `--- ${name} ---\n${log}` }
}

export interface Host {
  child: ChildProcess
  base: string
  /** The generate endpoint, as the Worker's pool names it. */
  url: string
  log(): string
}

/** Starts `src/hosts/node.ts` on a free port; resolves once it listens. */
export async function startHost(env: Record<string, string>, timeoutMs: number): Promise<Host> {
  const hostEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', ...env }
  delete hostEnv.API_TOKEN // open: the edge and the test talk to the hosts without a token
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/hosts/node.ts'], {
    cwd: ROOT,
    env: hostEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const { log } = track(child, `host ${env.HOST_NAME ?? ''}`)
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host did not listen\n${log()}`)), timeoutMs)
    const look = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log())
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    child.stdout!.on('data', look)
    child.stderr!.on('data', look)
    child.on('exit', (code) => reject(new Error(`host exited (${code})\n${log()}`)))
  })
  // warm before traffic: /readyz where the host has one (404 means it predates readiness)
  await waitFor(`host ${base}`, timeoutMs, log, async () => {
    const res = await fetch(`${base}/readyz`)
    await res.body?.cancel()
    return res.ok || res.status === 404
  })
  return { child, base, url: `${base}/v1/generate`, log }
}

/**
 * The project's wrangler.toml without its [build] step, paths made absolute: public/ is built
 * once here, where two `wrangler dev` running the build at once would race on its renames.
 */
function edgeConfig(dir: string): string {
  if (!existsSync(join(ROOT, 'public', 'schedules', 'index.json'))) {
    const build = spawnSync('npm', ['run', 'build:web'], { cwd: ROOT, encoding: 'utf8' })
    if (build.status !== 0)
      throw new Error(`npm run build:web failed\n${build.stdout}${build.stderr}`)
  }
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
    .replace(/^\[build\]\n(?:(?!\[)[^\n]*\n)*/m, '')
    .replace(
      /^(main|directory) = "(.*)"$/gm,
      (_, key, path) => `${key} = ${JSON.stringify(join(ROOT, path))}`,
    )
  const file = join(dir, 'wrangler.toml')
  writeFileSync(file, toml)
  return file
}

export interface Edge {
  child: ChildProcess
  base: string
  log(): string
}

/** Starts `wrangler dev --local` on loopback with `vars`; resolves once /healthz answers. */
export async function startEdge(vars: Record<string, string>, timeoutMs: number): Promise<Edge> {
  const [port, inspector] = [await freePort(), await freePort()]
  const state = mkdtempSync(join(tmpdir(), 'dpcache-pool-'))
  scratch.push(state)
  const args = [
    join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'),
    'dev',
    '--config',
    edgeConfig(state),
    '--local',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspector),
    '--show-interactive-dev-session=false',
    '--persist-to',
    state,
    ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ]
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true, // its own process group, so cleanup reaches workerd too
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_SEND_ERROR_REPORTS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_HIDE_BANNER: 'true',
      WRANGLER_LOG_PATH: state,
      CI: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  leaders.add(child)
  const { log } = track(child, `wrangler dev :${port}`)
  const base = `http://127.0.0.1:${port}`
  await waitFor(`wrangler dev on ${base}`, timeoutMs, log, async () => {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode})`)
    return (await fetch(`${base}/healthz`)).ok
  })
  return { child, base, log }
}

/** Polls `ready` (errors count as not yet) until it is true or `timeoutMs` passes. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  log: () => string,
  ready: () => Promise<boolean>,
): Promise<void> {
  const until = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < until) {
    try {
      if (await ready()) return
    } catch (err) {
      last = err
      if (err instanceof Error && /exited/.test(err.message)) break
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms (${String(last)})\n${log()}`)
}

/** A host's queue as its /healthz reports it. */
export async function queueOf(base: string): Promise<{ queued: number; running: number }> {
  return ((await (await fetch(`${base}/healthz`)).json()) as any).queue
}
