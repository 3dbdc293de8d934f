/**
 * The bad-input contract: every request here is something a client can send, and each must
 * get the JSON envelope with the right status and field, never a 500. Shared like Hono's
 * `src/router/common.case.test.ts` (in honojs/hono): the in-process app and the Node server over HTTP both run it.
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
  /** The cheapest plan's cost at `steps`; a maxCost below it selects nothing (when above 0). */
  minCost: number
  /** A model with schedules but no weights on this host (generate must say so). */
  schedulesOnly: string
  /** Every model this host runs, in the order errors list them. */
  runnable: string[]
}

export interface Case {
  name: string
  method?: string
  path: string
  headers?: Record<string, string>
  body?: string
  status: number
  code: string
  field?: string
  allowed?: unknown
}

type Expect = [status: number, code: string, field?: string, allowed?: unknown]

const JSON_TYPE = { 'content-type': 'application/json' }
const expected = ([status, code, field, allowed]: Expect) => ({ status, code, field, allowed })

export function badInputCases(t: Target): Case[] {
  const get = (name: string, path: string, ...e: Expect): Case => ({ name, path, ...expected(e) })
  const send = (name: string, headers: Record<string, string>, body: string, ...e: Expect) =>
    ({ name, method: 'POST', path: '/v1/generate', headers, body, ...expected(e) }) as Case
  const gen = (name: string, body: unknown, ...e: Expect) =>
    send(name, JSON_TYPE, JSON.stringify(body), ...e)
  const ok = { model: t.model, class: 0 }
  const s = { ...ok, steps: t.steps }
  const sched = `/v1/schedules/${t.model}/${t.steps}`
  const other = `/v1/schedules/${t.model}`
  const bad = 'invalid_field'
  return [
    get('unknown route', '/v1/nope', 404, 'not_found'),
    { ...get('wrong method on models', '/v1/models', 405, 'method_not_allowed'), method: 'DELETE' },
    { ...get('POST to a schedule', sched, 405, 'method_not_allowed'), method: 'POST' },
    { ...get('GET on generate', '/v1/generate', 405, 'method_not_allowed'), method: 'GET' },
    get(
      'schedule of an unknown model',
      `/v1/schedules/nope/${t.steps}`,
      404,
      'unknown_model',
      'model',
    ),
    get(
      'upper-case model',
      `/v1/schedules/${t.model.toUpperCase()}/1`,
      404,
      'unknown_model',
      'model',
    ),
    get(
      'path traversal, encoded',
      '/v1/schedules/..%2F..%2Fpackage/1',
      404,
      'unknown_model',
      'model',
    ),
    get('path traversal, dot segment', '/v1/schedules/..%2e/1', 404, 'unknown_model', 'model'),
    get('missing step count', `${other}/${t.missingSteps}`, 404, 'unknown_steps', 'steps'),
    get('steps with a leading zero', `${other}/0${t.steps}`, 404, 'unknown_steps', 'steps'),
    get('non-numeric steps', `${other}/abc`, 404, 'unknown_steps', 'steps'),
    get('fractional steps', `${other}/${t.steps}.5`, 404, 'unknown_steps', 'steps'),
    get('budget with no plan', `${sched}?budget=${t.steps + 1}`, 400, bad, 'budget'),
    get('budget not a number', `${sched}?budget=abc`, 400, bad, 'budget'),
    get('budget in hex', `${sched}?budget=0x0a`, 400, bad, 'budget'),
    get('budget in exponent form', `${sched}?budget=1e1`, 400, bad, 'budget'),
    get('budget with spaces', `${sched}?budget=%2010%20`, 400, bad, 'budget'),
    get('empty maxCost', `${sched}?maxCost=`, 400, bad, 'maxCost'),
    get(
      'budget twice',
      `${sched}?budget=${t.minBudget}&budget=${t.minBudget + 1}`,
      400,
      'duplicate_parameter',
      'budget',
    ),
    get('budget zero', `${sched}?budget=0`, 400, bad, 'budget', { min: 1, max: 1000 }),
    get('speedup no plan reaches', `${sched}?speedup=${t.steps + 1}`, 400, bad, 'speedup'),
    get('negative maxCost', `${sched}?maxCost=-1`, 400, bad, 'maxCost'),
    get('maxCost not a number', `${sched}?maxCost=cheap`, 400, bad, 'maxCost'),
    ...(t.minCost > 0
      ? [get('maxCost below every plan', `${sched}?maxCost=${t.minCost / 2}`, 400, bad, 'maxCost')]
      : []),
    get('two selectors', `${sched}?budget=${t.minBudget}&speedup=2`, 400, bad, 'speedup'),
    get('misspelt selector', `${sched}?bugdet=5`, 400, 'unknown_field', 'bugdet'),
    send(
      'text/plain',
      { 'content-type': 'text/plain' },
      '{}',
      415,
      'unsupported_media_type',
      'content-type',
    ),
    send('no content type', {}, JSON.stringify(ok), 415, 'unsupported_media_type', 'content-type'),
    send(
      'gzip-encoded body',
      { ...JSON_TYPE, 'content-encoding': 'gzip' },
      '{}',
      415,
      'unsupported_media_type',
      'content-encoding',
      ['identity'],
    ),
    send('malformed JSON', JSON_TYPE, '{"model":', 400, 'malformed_json'),
    gen('body over the limit', { ...ok, pad: 'x'.repeat(8000) }, 413, 'payload_too_large'),
    gen('body is an array', [], 400, 'invalid_body'),
    gen('body is null', null, 400, 'invalid_body'),
    gen('missing model', { class: 0 }, 400, bad, 'model'),
    gen('model not a string', { model: 42, class: 0 }, 400, bad, 'model'),
    gen('model is a path', { model: '../../etc/passwd', class: 0 }, 400, bad, 'model'),
    gen('unknown model', { model: 'nope', class: 0 }, 404, 'unknown_model', 'model', t.runnable),
    gen(
      'schedules-only model',
      { model: t.schedulesOnly, class: 0 },
      400,
      'schedules_only',
      'model',
      t.runnable,
    ),
    get('cache-dit export without a plan', `${sched}?format=cache-dit`, 400, bad, 'budget'),
    get(
      'unknown export format',
      `${sched}?budget=${t.minBudget}&format=diffusers`,
      400,
      bad,
      'format',
    ),
    gen('missing class', { model: t.model }, 400, bad, 'class'),
    gen('negative class', { ...ok, class: -1 }, 400, bad, 'class'),
    gen('class past the model', { ...ok, class: t.classes }, 400, bad, 'class', {
      min: 0,
      max: t.classes - 1,
    }),
    gen('fractional class', { ...ok, class: 1.5 }, 400, bad, 'class'),
    gen('class as a string', { ...ok, class: '3' }, 400, bad, 'class'),
    gen('negative seed', { ...ok, seed: -1 }, 400, bad, 'seed', { min: 0, max: 2 ** 32 - 1 }),
    gen('seed past 32 bits', { ...ok, seed: 2 ** 32 }, 400, bad, 'seed'),
    gen('seed at 2^53', { ...ok, seed: 2 ** 53 }, 400, bad, 'seed', { min: 0, max: 2 ** 32 - 1 }),
    gen('seed + batch past 32 bits', { ...ok, seed: 2 ** 32 - 1, batch: 2 }, 400, bad, 'seed', {
      min: 0,
      max: 2 ** 32 - 2,
    }),
    gen('one step', { ...ok, steps: 1 }, 400, bad, 'steps'),
    gen(
      'steps with no schedule',
      { ...ok, steps: t.missingSteps, budget: t.minBudget },
      404,
      'unknown_steps',
      'steps',
    ),
    gen('absurd steps', { ...ok, steps: 100_000 }, 400, bad, 'steps'),
    gen('zero budget', { ...s, budget: 0 }, 400, bad, 'budget'),
    gen('budget with no plan', { ...s, budget: t.steps + 1 }, 400, bad, 'budget'),
    gen('budget and speedup', { ...s, budget: t.minBudget, speedup: 2 }, 400, bad, 'speedup'),
    gen('speedup below 1', { ...s, speedup: 0.5 }, 400, bad, 'speedup'),
    gen('speedup no plan reaches', { ...s, speedup: t.steps + 1 }, 400, bad, 'speedup'),
    gen('negative guidance', { ...ok, guidance: -1 }, 400, bad, 'guidance', { min: 0, max: 20 }),
    gen('huge guidance', { ...ok, guidance: 1e6 }, 400, bad, 'guidance'),
    gen('guidance as a word', { ...ok, guidance: 'high' }, 400, bad, 'guidance'),
    gen('zero batch', { ...ok, batch: 0 }, 400, bad, 'batch'),
    gen('batch over the limit', { ...ok, batch: 17 }, 400, bad, 'batch', { min: 1, max: 16 }),
    gen('unknown format', { ...ok, format: 'gif' }, 400, bad, 'format', ['png', 'json']),
    gen('unknown field', { ...ok, prompt: 'a cat' }, 400, 'unknown_field', 'prompt'),
  ]
}

/** Registers one test per case against `request` (app.request, or fetch to a live server). */
export function runBadInputSuite(
  request: (path: string, init: RequestInit) => Promise<Response>,
  target: Target,
): void {
  for (const c of badInputCases(target)) {
    it(`${c.status} ${c.code}: ${c.name}`, async () => {
      const res = await request(c.path, {
        method: c.method ?? 'GET',
        headers: c.headers,
        body: c.body,
      })
      const text = await res.text()
      expect(res.headers.get('content-type'), text).toMatch(/^application\/json/)
      const { error } = JSON.parse(text) as {
        error: { code: string; message: string; field?: string; allowed?: unknown }
      }
      const got = { status: res.status, code: error.code, field: error.field }
      expect(got, text).toEqual({ status: c.status, code: c.code, field: c.field })
      expect(error.message.length).toBeGreaterThan(0)
      if (c.allowed !== undefined) expect(error.allowed).toEqual(c.allowed)
    })
  }
}
