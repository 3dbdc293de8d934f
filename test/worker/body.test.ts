/**
 * An oversized chunked body in workerd: 413, the unread rest cancelled, and the next requests
 * served as usual (the Worker used to restart, failing the next POST with 503).
 */
import { exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'

const BASE = 'https://edge.test'

function chunked(bytes: number): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close()
      const chunk = new TextEncoder().encode('x'.repeat(Math.min(8192, bytes - sent)))
      sent += chunk.length
      controller.enqueue(chunk)
    },
  })
}

describe('Worker: request bodies', () => {
  it('a chunked 70 KB body gets 413 and the next POST and GET are served', async () => {
    const big = await exports.default.fetch(
      new Request(`${BASE}/v1/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chunked(70_000),
        // @ts-expect-error: workerd's RequestInit accepts duplex like undici's
        duplex: 'half',
      }),
    )
    expect(big.status).toBe(413)
    expect(((await big.json()) as { error: { code: string } }).error.code).toBe('payload_too_large')
    const next = await exports.default.fetch(
      new Request(`${BASE}/v1/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'tiny-dit-mnist', class: 1 }),
      }),
    )
    expect(next.status).toBe(200)
    expect(((await next.json()) as { dispatched: boolean }).dispatched).toBe(true)
    expect((await exports.default.fetch(`${BASE}/v1/models`)).status).toBe(200)
  })
})
