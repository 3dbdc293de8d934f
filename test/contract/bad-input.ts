/**
 * The bad-input contract: every request here is something a client can send, and each must
 * get the JSON envelope with the right status and field, never a 500. Shared like Hono's
 * `common.case.test.ts`: the in-process app and the Node server over HTTP both run it.
 */
import { expect, it } from 'vitest'

export interface Target {
  /** A model that runs and has schedules. */
  model: string
  classes: number
  /** A step count with a schedule, its smallest budget, and one with none. */
  steps: number
  minBudget: number
  missingSteps: number
}

export interface Case {
  name: string
  method?: string
  path: string
  headers?: Record<string, string>
  body?: string
  status: number
  code?: string
  field?: string
  allowed?: unknown
}

const JSON_HEADERS = { 'content-type': 'application/json' }

export function badInputCases(t: Target): Case[] {
  const gen = (name: string, body: unknown, status: number, code: string, field?: string, allowed?: unknown): Case => ({
    name,
    method: 'POST',
    path: '/v1/generate',
    headers: JSON_HEADERS,
    body: JSON.stringify(body),
    status,
    code,
    field,
    allowed,
  })
  const ok = { model: t.model, class: 0 }
  const sched = `/v1/schedules/${t.model}/${t.steps}`
  return [
    { name: 'unknown route', path: '/v1/nope', status: 404, code: 'not_found' },
    { name: 'wrong method on models', method: 'DELETE', path: '/v1/models', status: 404, code: 'not_found' },
    { name: 'schedule of an unknown model', path: `/v1/schedules/nope/${t.steps}`, status: 404, code: 'unknown_model', field: 'model' },
    { name: 'schedule with an upper-case model', path: `/v1/schedules/${t.model.toUpperCase()}/${t.steps}`, status: 404, code: 'unknown_model', field: 'model' },
    { name: 'schedule path traversal (encoded)', path: `/v1/schedules/..%2F..%2Fpackage/${t.steps}`, status: 404, code: 'unknown_model', field: 'model' },
    { name: 'schedule path traversal (dot segment)', path: `/v1/schedules/..%2e/${t.steps}`, status: 404, code: 'unknown_model', field: 'model' },
    { name: 'schedule of a missing step count', path: `/v1/schedules/${t.model}/${t.missingSteps}`, status: 404, code: 'unknown_steps', field: 'steps' },
    { name: 'schedule with non-numeric steps', path: `/v1/schedules/${t.model}/abc`, status: 404, code: 'unknown_steps', field: 'steps' },
    { name: 'schedule with fractional steps', path: `/v1/schedules/${t.model}/${t.steps}.5`, status: 404, code: 'unknown_steps', field: 'steps' },
    { name: 'budget with no plan', path: `${sched}?budget=${t.minBudget - 1}`, status: 400, code: 'invalid_field', field: 'budget' },
    { name: 'budget not a number', path: `${sched}?budget=abc`, status: 400, code: 'invalid_field', field: 'budget' },
    { name: 'budget zero', path: `${sched}?budget=0`, status: 400, code: 'invalid_field', field: 'budget', allowed: { min: 1, max: 1000 } },
    { name: 'speedup no plan reaches', path: `${sched}?speedup=${t.steps}`, status: 400, code: 'invalid_field', field: 'speedup' },
    { name: 'negative maxCost', path: `${sched}?maxCost=-1`, status: 400, code: 'invalid_field', field: 'maxCost' },
    { name: 'maxCost below every plan', path: `${sched}?maxCost=0`, status: 400, code: 'invalid_field', field: 'maxCost' },
    { name: 'two selectors', path: `${sched}?budget=${t.minBudget}&speedup=2`, status: 400, code: 'invalid_field', field: 'speedup' },
    { name: 'misspelt selector', path: `${sched}?bugdet=5`, status: 400, code: 'unknown_field', field: 'bugdet' },
    { name: 'generate as text/plain', method: 'POST', path: '/v1/generate', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(ok), status: 415, code: 'unsupported_media_type' },
    { name: 'generate without a content type', method: 'POST', path: '/v1/generate', body: JSON.stringify(ok), status: 415, code: 'unsupported_media_type' },
    { name: 'generate with malformed JSON', method: 'POST', path: '/v1/generate', headers: JSON_HEADERS, body: '{"model":', status: 400, code: 'malformed_json' },
    { name: 'generate body over the limit', method: 'POST', path: '/v1/generate', headers: JSON_HEADERS, body: JSON.stringify({ ...ok, pad: 'x'.repeat(8000) }), status: 413, code: 'payload_too_large' },
    gen('generate body is an array', [], 400, 'invalid_body'),
    gen('generate body is null', null, 400, 'invalid_body'),
    gen('missing model', { class: 0 }, 400, 'invalid_field', 'model'),
    gen('model not a string', { model: 42, class: 0 }, 400, 'invalid_field', 'model'),
    gen('model is a path', { model: '../../etc/passwd', class: 0 }, 400, 'invalid_field', 'model'),
    gen('unknown model', { model: 'nope', class: 0 }, 404, 'unknown_model', 'model', [t.model]),
    gen('missing class', { model: t.model }, 400, 'invalid_field', 'class'),
    gen('negative class', { ...ok, class: -1 }, 400, 'invalid_field', 'class'),
    gen('class past the model', { ...ok, class: t.classes }, 400, 'invalid_field', 'class', { min: 0, max: t.classes - 1 }),
    gen('fractional class', { ...ok, class: 1.5 }, 400, 'invalid_field', 'class'),
    gen('class as a string', { ...ok, class: '3' }, 400, 'invalid_field', 'class'),
    gen('negative seed', { ...ok, seed: -1 }, 400, 'invalid_field', 'seed', { min: 0, max: 2 ** 32 - 1 }),
    gen('seed past 32 bits', { ...ok, seed: 2 ** 32 }, 400, 'invalid_field', 'seed'),
    gen('one step', { ...ok, steps: 1 }, 400, 'invalid_field', 'steps'),
    gen('steps with no schedule', { ...ok, steps: t.missingSteps, budget: t.minBudget }, 404, 'unknown_steps', 'steps'),
    gen('absurd steps', { ...ok, steps: 100_000 }, 400, 'invalid_field', 'steps'),
    gen('zero budget', { ...ok, steps: t.steps, budget: 0 }, 400, 'invalid_field', 'budget'),
    gen('budget with no plan', { ...ok, steps: t.steps, budget: t.minBudget - 1 }, 400, 'invalid_field', 'budget'),
    gen('budget and speedup', { ...ok, steps: t.steps, budget: t.minBudget, speedup: 2 }, 400, 'invalid_field', 'speedup'),
    gen('speedup below 1', { ...ok, steps: t.steps, speedup: 0.5 }, 400, 'invalid_field', 'speedup'),
    gen('speedup no plan reaches', { ...ok, steps: t.steps, speedup: t.steps }, 400, 'invalid_field', 'speedup'),
    gen('negative guidance', { ...ok, guidance: -1 }, 400, 'invalid_field', 'guidance', { min: 0, max: 20 }),
    gen('huge guidance', { ...ok, guidance: 1e6 }, 400, 'invalid_field', 'guidance'),
    gen('guidance as a word', { ...ok, guidance: 'high' }, 400, 'invalid_field', 'guidance'),
    gen('zero batch', { ...ok, batch: 0 }, 400, 'invalid_field', 'batch'),
    gen('batch over the limit', { ...ok, batch: 17 }, 400, 'invalid_field', 'batch', { min: 1, max: 16 }),
    gen('unknown format', { ...ok, format: 'gif' }, 400, 'invalid_field', 'format', ['png', 'json']),
    gen('unknown field', { ...ok, prompt: 'a cat' }, 400, 'unknown_field', 'prompt'),
  ]
}

/** Registers one test per case against `request` (app.request, or fetch to a live server). */
export function runBadInputSuite(request: (path: string, init: RequestInit) => Promise<Response>, target: Target): void {
  for (const c of badInputCases(target)) {
    it(`${c.status} ${c.code}: ${c.name}`, async () => {
      const res = await request(c.path, { method: c.method ?? 'GET', headers: c.headers, body: c.body })
      const text = await res.text()
      expect(res.headers.get('content-type'), text).toMatch(/^application\/json/)
      const { error } = JSON.parse(text) as { error: { code: string; message: string; field?: string; allowed?: unknown } }
      expect({ status: res.status, code: error.code, field: error.field }, text).toEqual({ status: c.status, code: c.code, field: c.field })
      expect(error.message.length).toBeGreaterThan(0)
      if (c.allowed !== undefined) expect(error.allowed).toEqual(c.allowed)
    })
  }
}
