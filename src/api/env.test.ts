import { describe, expect, it } from 'vitest'
import { EnvError, limitsFromEnv, parseHostEnv } from './env.ts'

function errorOf(raw: Record<string, string>): EnvError {
  try {
    parseHostEnv(raw)
  } catch (err) {
    if (err instanceof EnvError) return err
    throw err
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`)
}

describe('parseHostEnv', () => {
  it('parses a full, valid environment and ignores variables that are not ours', () => {
    const env = parseHostEnv({
      PORT: '0',
      MODELS: 'tiny-dit-mnist,other.model',
      BACKEND: 'cpu',
      ORT_THREADS: '2',
      API_TOKEN: 's3cret-token',
      MAX_BATCH: '64',
      BATCH_WINDOW_MS: '0',
      MAX_QUEUED: '0',
      TIMEOUT_MS: '30000',
      GENERATE_URL: 'https://gpu.example.com/v1/generate',
      GENERATE_URLS: 'https://gpu-1.example.com/v1/generate, http://10.0.0.2:8787/v1/generate',
      POOL_COOLDOWN_MS: '0',
      POOL_TIMEOUT_MS: '60000',
      HOME: '/root',
      PATH: '/usr/bin',
    })
    expect(env).toEqual({
      PORT: 0,
      MODELS: ['tiny-dit-mnist', 'other.model'],
      BACKEND: 'cpu',
      ORT_THREADS: 2,
      API_TOKEN: 's3cret-token',
      MAX_BATCH: 64,
      BATCH_WINDOW_MS: 0,
      MAX_QUEUED: 0,
      TIMEOUT_MS: 30000,
      GENERATE_URL: 'https://gpu.example.com/v1/generate',
      GENERATE_URLS: ['https://gpu-1.example.com/v1/generate', 'http://10.0.0.2:8787/v1/generate'],
      POOL_COOLDOWN_MS: 0,
      POOL_TIMEOUT_MS: 60000,
    })
    expect(parseHostEnv({})).toEqual({})
  })

  // the reproductions from the hardening issue, each of which used to start a broken service
  it.each([
    ['TIMEOUT_MS', ''],
    ['TIMEOUT_MS', '30s'],
    ['MAX_QUEUED', ''],
    ['MAX_QUEUED', '64x'],
    ['MAX_BATCH', '0'],
    ['MAX_BATCH', ' 16'],
    ['PORT', '0x10'],
    ['PORT', '1e3'],
    ['PORT', '70000'],
    ['BACKEND', 'gpu'],
    ['MODELS', 'a, b'],
    ['GENERATE_URL', 'gpu.example.com'],
    ['GENERATE_URLS', 'https://a.example/v1/generate,gpu-2:8787'],
    ['GENERATE_URLS', 'https://a.example/v1/generate,'],
    ['GENERATE_URLS', ''],
    ['POOL_COOLDOWN_MS', '10s'],
    ['POOL_TIMEOUT_MS', '0'],
  ])('%s=%j stops the host with a line naming it', (name, value) => {
    const err = errorOf({ [name]: value })
    expect(err.variable).toBe(name)
    expect(err.message).toContain(`${name}=${JSON.stringify(value)}`)
    expect(err.message).toMatch(/expected .+/)
    expect(err.message).not.toContain('\n')
  })

  it('refuses a token with a trailing newline without echoing the token', () => {
    const err = errorOf({ API_TOKEN: 'hunter2-secret\n' })
    expect(err.variable).toBe('API_TOKEN')
    expect(err.message).not.toContain('hunter2')
    expect(err.message).toContain('15 characters, with whitespace')
  })

  it('MAX_BATCH above the default raises the schema limit too', () => {
    expect(limitsFromEnv(parseHostEnv({ MAX_BATCH: '64' })).maxBatch).toBe(64)
    expect(limitsFromEnv({}).maxBatch).toBe(16)
  })
})
