/**
 * Start-up as a user sees it, with real spawned processes: a backend that cannot start ends
 * the host (and the generate CLI) with exit code 2 and one line naming the backend, the reason
 * and the backends that work, never a hang; a good one listens at once, answers /readyz 503
 * (and generate 503 with Retry-After) while it warms up, then 200.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')
// generate without a token here; the entrypoint test covers one
const { API_TOKEN: _token, ...inherited } = process.env

/** Runs a TypeScript entry with tsx; resolves with its exit code and output, or kills it. */
function runToExit(args: string[], env: Record<string, string>, limitMs = 30_000) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...inherited, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => (stdout += c))
  child.stderr.on('data', (c) => (stderr += c))
  const t0 = performance.now()
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), limitMs)
      child.on('exit', (code) => {
        clearTimeout(kill)
        resolve({ code, stdout, stderr, ms: performance.now() - t0 })
      })
    },
  )
}

/**
 * fetch that retries a connection reset: while warm-up holds the event loop for seconds, the
 * server's keep-alive timer can close a pooled connection just as the next request goes out.
 */
async function fetchRetrying(url: string, init?: RequestInit): Promise<Response> {
  for (let k = 0; ; k++) {
    try {
      return await fetch(url, init)
    } catch (e) {
      if (k >= 3) throw e
    }
  }
}

const errorLines = (stderr: string) =>
  stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'))

describe('a backend that cannot start', () => {
  it.each([
    [
      'webgpu',
      /backend 'webgpu' cannot start: it runs on deno or browser, not node; backends that work here: wasm, cpu/,
    ],
    ['cuda', /backend 'cuda' cannot start: .*CUDA.*; backends that work here: wasm, cpu/],
    ['tpu', /BACKEND="tpu" is not valid: expected one of wasm, webgpu, cpu, cuda/],
  ])('BACKEND=%s: the host exits 2 with one line', async (backend, line) => {
    const res = await runToExit(['src/hosts/node.ts'], { BACKEND: backend })
    expect(res.code, res.stderr).toBe(2)
    expect(errorLines(res.stderr)).toHaveLength(1)
    expect(res.stderr).toMatch(line)
  })

  it('npm run generate -- --backend webgpu exits 2 with one line', async () => {
    const res = await runToExit(['scripts/generate.ts', '--class', '3', '--backend', 'webgpu'], {})
    expect(res.code, res.stderr).toBe(2)
    expect(errorLines(res.stderr)).toEqual([
      expect.stringMatching(/^error: backend 'webgpu' cannot start: .*work here: wasm, cpu$/),
    ])
  })

  it('a bad variable exits 2 naming it', async () => {
    const res = await runToExit(['src/hosts/node.ts'], { WARMUP: 'sometimes' })
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/WARMUP="sometimes" is not valid: expected one of all, off/)
  })
})

describe('warm start', () => {
  it('answers /healthz at once, /readyz and generate 503 while warming, then 200', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/hosts/node.ts'], {
      cwd: ROOT,
      // the largest batch makes warm-up long enough to be seen from outside
      env: { ...inherited, PORT: '0', BACKEND: 'wasm', MAX_BATCH: '16' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      let log = ''
      const base = await new Promise<string>((resolve, reject) => {
        const onData = (c: Buffer) => {
          log += c
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log)
          if (m) resolve(m[1])
        }
        child.stdout.on('data', onData)
        child.stderr.on('data', onData)
        child.on('exit', (code) => reject(new Error(`host exited (${code}): ${log}`)))
      })
      const health = await fetchRetrying(`${base}/healthz`)
      expect(health.status).toBe(200)
      const early = await fetchRetrying(`${base}/readyz`)
      expect(early.status).toBe(503)
      expect(await early.json()).toEqual({ ready: false, generate: 'local' })
      const body = JSON.stringify({ model: 'tiny-dit-mnist', class: 1, budget: 10 })
      const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body }
      const cold = await fetchRetrying(`${base}/v1/generate`, init)
      expect(cold.status).toBe(503)
      expect(Number(cold.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(((await cold.json()) as any).error.code).toBe('warming_up')
      let ready = early
      for (let k = 0; k < 600 && ready.status !== 200; k++) {
        await new Promise((r) => setTimeout(r, 100))
        ready = await fetchRetrying(`${base}/readyz`)
      }
      expect(ready.status).toBe(200)
      expect(log).toMatch(/ready/)
      const warm = await fetchRetrying(`${base}/v1/generate`, init)
      expect(warm.status).toBe(200)
      expect(warm.headers.get('content-type')).toBe('image/png')
    } finally {
      child.kill('SIGTERM')
    }
  })
})
