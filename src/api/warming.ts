/**
 * A generate backend that exists before its engine is ready, so a host can listen (and answer
 * /healthz and /readyz) while its models load and warm up. Until then generate answers 503
 * with a Retry-After taken from the warm-up's progress; a failed load stays failed (the host
 * exits on it).
 */
import type { GenerateBackend } from './backend.ts'
import { ApiError } from './errors.ts'

export interface Warming {
  backend: GenerateBackend
  /** Settles when the inner backend is ready to serve, or rejects with why it never will be. */
  ready: Promise<void>
}

/**
 * `load(progress)` builds the real backend; it calls `progress(fraction)` as warm-up advances.
 */
export function warmingBackend(
  load: (progress: (fraction: number) => void) => Promise<GenerateBackend>,
): Warming {
  const startedAt = performance.now()
  let fraction = 0
  let inner: GenerateBackend | undefined
  const ready = load((f) => (fraction = f)).then((b) => {
    inner = b
  })
  ready.catch(() => undefined) // the host handles the failure; requests just see "not ready"
  const retryAfter = () => {
    const elapsed = performance.now() - startedAt
    const left = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : elapsed + 1000
    return String(Math.max(1, Math.ceil(left / 1000)))
  }
  const backend: GenerateBackend = {
    kind: 'local',
    models: () => inner?.models() ?? [],
    stats: () => inner?.stats?.() ?? { queued: 0, running: 0, batches: 0 },
    ready: () => inner !== undefined,
    handle(req, c) {
      if (!inner) {
        throw new ApiError(
          503,
          { code: 'warming_up', message: 'models are loading and warming up; retry shortly' },
          { 'Retry-After': retryAfter() },
        )
      }
      return inner.handle(req, c)
    },
  }
  return { backend, ready }
}
