/**
 * The container's entrypoint (container/entrypoint.sh), run directly on this machine as the
 * image would run it, minus the base image: it validates the environment, starts the host,
 * waits for /readyz, then serves generate; SIGTERM ends it cleanly. Docker itself cannot run
 * here, so this is everything of the image that can be tested without it.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')
const SCRIPT = join(ROOT, 'container', 'entrypoint.sh')

/** A free loopback port (the entrypoint polls /readyz on a fixed port, so not PORT=0). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

function start(env: Record<string, string>) {
  // `sh` as a container would (dash on Debian), not bash
  const child = spawn('sh', [SCRIPT], {
    cwd: '/',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout.on('data', (c) => (log += c))
  child.stderr.on('data', (c) => (log += c))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return { child, exited, log: () => log }
}

describe('container/entrypoint.sh', () => {
  it('starts the host, reports ready only when /readyz is 200, serves generate, stops on SIGTERM', async () => {
    const port = await freePort()
    const ep = start({ BACKEND: 'cpu', PORT: String(port), API_TOKEN: 'secret-token' })
    try {
      for (let k = 0; k < 1200 && !/entrypoint: ready/.test(ep.log()); k++) {
        if (ep.child.exitCode !== null) throw new Error(`entrypoint exited: ${ep.log()}`)
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(ep.log()).toMatch(
        new RegExp(`entrypoint: ready on http://127.0.0.1:${port} \\(backend cpu\\)`),
      )
      const base = `http://127.0.0.1:${port}`
      expect((await fetch(`${base}/readyz`)).status).toBe(200)
      const res = await fetch(`${base}/v1/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token' },
        body: JSON.stringify({
          model: 'tiny-dit-mnist',
          class: 5,
          seed: 2,
          budget: 10,
          format: 'json',
        }),
      })
      expect(res.status).toBe(200)
      const out = (await res.json()) as { nfe: number; images: unknown[] }
      expect(out.nfe).toBe(10)
      expect(out.images).toHaveLength(1)
    } finally {
      ep.child.kill('SIGTERM')
    }
    expect(await ep.exited).toBe(0)
  })

  it.each([
    [{ BACKEND: 'gpu' }, /BACKEND must be one of wasm, cpu, cuda, webgpu, got 'gpu'/],
    [{ PORT: '0' }, /PORT must be in 1\.\.65535/],
    [{ MODELS_DIR: '/nonexistent' }, /no directory '\/nonexistent'/],
  ])('refuses a bad environment with exit 2: %j', async (env, message) => {
    const ep = start({ BACKEND: 'cpu', PORT: '8787', ...env })
    expect(await ep.exited).toBe(2)
    expect(ep.log()).toMatch(message)
  })

  it('passes on the host exit code 2 when the backend cannot start', async () => {
    const ep = start({ BACKEND: 'cuda', PORT: String(await freePort()) })
    expect(await ep.exited).toBe(2)
    expect(ep.log()).toMatch(/backend 'cuda' cannot start: .*backends that work here: wasm, cpu/)
    expect(ep.log()).toMatch(/the host exited with status 2 before it was ready/)
  })
})
