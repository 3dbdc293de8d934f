/**
 * What the browser tests drive: the real Node host (src/hosts/node.ts) on a free loopback port,
 * and Debian's Chromium through playwright-core (which downloads no browser). Playwright gives
 * every launch a fresh temporary profile (its own --user-data-dir).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

export const ROOT = join(import.meta.dirname, '..', '..')
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Flags for a quiet, offline, sandbox-free headless run (CI runs as root in a container). */
const QUIET = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export const WASM_ARGS = [...QUIET, '--disable-gpu']
/** WebGPU on a machine without a GPU: Chromium's own software Vulkan (SwiftShader). */
export const WEBGPU_ARGS = [...QUIET, '--enable-unsafe-webgpu']

export function launch(args: string[]): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run)`)
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args })
}

export interface Host {
  base: string
  stop(): Promise<void>
}

/** Starts the Node host with PORT=0 and resolves with its URL once it is ready (models warm). */
export async function startNodeHost(env: Record<string, string> = {}): Promise<Host> {
  if (!existsSync(join(ROOT, 'public', 'index.html'))) {
    throw new Error('public/ is not built: run npm run build:web (npm test does it first)')
  }
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src', 'hosts', 'node.ts')],
    { cwd: ROOT, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const base = await new Promise<string>((resolve, reject) => {
    let log = ''
    child.stdout!.on('data', (b: Buffer) => {
      log += b.toString()
      // the host listens at once and warms its models after; serve the page once it is ready
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)
      if (m && log.includes('dpcache-edge ready')) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`node host exited with ${code}:\n${log}`)))
  })
  return {
    base,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.on('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
