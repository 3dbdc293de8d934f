import { describe, expect, it } from 'vitest'
import { memoryScheduleStore } from '../runtime/schedule-store.ts'
import { createApp } from './index.ts'
import { proxyGenerate, type Dispatch } from './proxy.ts'

const appWith = (dispatch: Dispatch) =>
  createApp({ schedules: memoryScheduleStore([]), generate: proxyGenerate(dispatch) })
const body = JSON.stringify({ model: 'm', class: 1, speedup: 2.5 })
const send = (dispatch: Dispatch, headers: Record<string, string> = {}) =>
  appWith(dispatch).request('/v1/generate', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })

describe('proxyGenerate', () => {
  it('forwards the validated body, the Authorization header and the abort signal', async () => {
    let seen: Request | undefined
    const res = await send(
      async (req) => {
        seen = req
        return new Response('png-bytes', { headers: { 'content-type': 'image/png', 'x-nfe': '8' } })
      },
      { authorization: 'Bearer abc' },
    )
    expect([res.status, res.headers.get('x-nfe'), await res.text()]).toEqual([
      200,
      '8',
      'png-bytes',
    ])
    expect(seen!.url).toBe('https://generate.internal/v1/generate')
    expect(seen!.headers.get('authorization')).toBe('Bearer abc')
    expect(seen!.signal).toBeInstanceOf(AbortSignal)
    expect(await seen!.json()).toEqual({
      model: 'm',
      class: 1,
      speedup: 2.5,
      batch: 1,
      format: 'png',
    })
  })

  it('passes the backend error envelopes through unchanged', async () => {
    const envelope = { error: { code: 'queue_full', message: 'busy' } }
    const res = await send(async () =>
      Response.json(envelope, { status: 429, headers: { 'retry-after': '3' } }),
    )
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '3'])
    expect(await res.json()).toEqual(envelope)
  })

  it('answers 502 when the backend is unreachable or answers with a bare error page', async () => {
    const down = await send(async () => {
      throw new TypeError('connection refused')
    })
    expect(down.status).toBe(502)
    expect(((await down.json()) as any).error.code).toBe('backend_unavailable')
    const page = await send(async () => new Response('<h1>Bad gateway</h1>', { status: 503 }))
    expect(page.status).toBe(502)
    expect(((await page.json()) as any).error.code).toBe('backend_error')
  })

  it('lists no models of its own', async () => {
    const res = await appWith(async () => new Response()).request('/v1/models')
    expect(await res.json()).toEqual({ models: [] })
  })
})
