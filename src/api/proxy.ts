/**
 * A generate backend that forwards to another host running this app with an engine (a GPU
 * machine): through a Workers service binding or plain `fetch` to a URL. The client's
 * `Authorization` header goes along, so both ends can share one API_TOKEN, and its abort
 * signal too, so a client that leaves stops the remote work.
 */
import { ApiError } from './errors.ts'
import type { GenerateBackend } from './backend.ts'

/** Anything with a fetch: a service binding (`Fetcher`) or a wrapper around global fetch. */
export type Dispatch = (request: Request) => Promise<Response>

/** `url` is the backend's generate endpoint, e.g. https://gpu.example.com/v1/generate. */
export function proxyGenerate(
  dispatch: Dispatch,
  url = 'https://generate.internal/v1/generate',
): GenerateBackend {
  return {
    kind: 'remote',
    models: () => [],
    async handle(req, c) {
      const headers = new Headers({ 'content-type': 'application/json' })
      const auth = c.req.header('authorization')
      if (auth) headers.set('authorization', auth)
      let res: Response
      try {
        res = await dispatch(
          new Request(url, {
            method: 'POST',
            headers,
            body: JSON.stringify(req),
            signal: c.req.raw.signal,
          }),
        )
      } catch (err) {
        if (c.req.raw.signal.aborted) throw err
        throw new ApiError(502, {
          code: 'backend_unavailable',
          message: `generate backend unreachable: ${String(err)}`,
        })
      }
      // our own envelopes and images pass through; a bare proxy error page does not
      const type = res.headers.get('content-type') ?? ''
      if (res.status >= 500 && !type.startsWith('application/json')) {
        await res.body?.cancel()
        throw new ApiError(502, {
          code: 'backend_error',
          message: `generate backend answered ${res.status}`,
        })
      }
      return new Response(res.body, res)
    },
  }
}
