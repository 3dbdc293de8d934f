/**
 * The Node host refuses a bad configuration at boot: exit code 2, one line naming what is
 * wrong, within seconds. Each case used to start a service that failed every request.
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')

function boot(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const { API_TOKEN: _token, ...inherited } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/hosts/node.ts'], {
    cwd: ROOT,
    env: { ...inherited, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.on('data', (d) => {
    // a host that becomes ready has accepted the configuration and its models (it listens
    // earlier, while they load and warm up): stop it and report
    if (String(d).includes('dpcache-edge ready')) child.kill('SIGTERM')
  })
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })))
}

const tmp = mkdtempSync(join(tmpdir(), 'dpcache-boot-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('Node host boot', () => {
  it.each([
    [{ TIMEOUT_MS: '30s' }, 'TIMEOUT_MS="30s"'],
    [{ MAX_QUEUED: '' }, 'MAX_QUEUED=""'],
    [{ API_TOKEN: 'token\n' }, 'API_TOKEN='],
    [{ MAX_BATCH: '0' }, 'MAX_BATCH="0"'],
  ])('%j exits 2 with one line', async (env, named) => {
    const { code, stderr } = await boot(env)
    expect(code).toBe(2)
    const lines = stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(named)
    expect(lines[0]).toMatch(/expected/)
  })

  it('refuses a manifest whose id differs from its folder, naming both', async () => {
    const dir = join(tmp, 'models', 'renamed-model')
    cpSync(join(ROOT, 'models', 'tiny-dit-mnist'), dir, { recursive: true })
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).id).toBe('tiny-dit-mnist')
    const { code, stderr } = await boot({
      MODELS_DIR: join(tmp, 'models'),
      MODELS: 'renamed-model',
    })
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain("declares id 'tiny-dit-mnist'")
    expect(stderr).toContain("folder is 'renamed-model'")
  })
})
