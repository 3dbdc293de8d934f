/**
 * The typed client against the real app (toy model on onnxruntime, fixture schedules), through
 * `app.request` as its fetch: every call, and every kind of failure, as a caller sees it.
 */
import { describe, expect, it } from 'vitest'
import { toyEngine, toyStore, TOY } from '../../test/fixtures/toy.ts'
import { createApp } from '../api/index.ts'
import { localGenerate } from '../api/local.ts'
import { ApiClientError, createClient } from './index.ts'

const store = toyStore()
const engine = await toyEngine()
const app = createApp({
  schedules: store,
  generate: localGenerate(engine, store),
  apiToken: 'sesame',
})
const viaApp = (input: string, init?: RequestInit) => Promise.resolve(app.request(input, init))
const api = createClient({ baseUrl: 'http://api.test/', token: 'sesame', fetch: viaApp })

async function rejection(p: Promise<unknown>): Promise<ApiClientError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(ApiClientError)
  return e as ApiClientError
}

describe('client', () => {
  it('models() and schedule() return what the routes serve', async () => {
    const { models } = await api.models()
    expect(models.find((m) => m.id === TOY)?.schedules.map((s) => s.steps)).toEqual([10, 20])
    const file = await api.schedule(TOY, 20)
    expect([file.model, file.steps]).toEqual([TOY, 20])
    const byBudget = await api.schedule(TOY, 20, { budget: 5 })
    expect(byBudget.plan.budget).toBe(5)
    const bySpeedup = await api.schedule(TOY, 20, { speedup: 4 })
    expect(20 / bySpeedup.plan.budget).toBeGreaterThanOrEqual(4)
    const byCost = await api.schedule(TOY, 20, { maxCost: file.plans.at(-1)!.cost })
    expect(byCost.plan.cost).toBeLessThanOrEqual(file.plans.at(-1)!.cost)
  })

  it('generate() as JSON and as PNG', async () => {
    const json = await api.generate({ model: TOY, class: 3, seed: 4, budget: 5, format: 'json' })
    expect([json.nfe, json.budget, json.images.length]).toEqual([5, 5, 1])
    expect(json.keySteps).toHaveLength(5)
    const png = await api.generate({ model: TOY, class: 3, seed: 4, budget: 5, batch: 4 })
    expect([...png.png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47])
    expect([png.nfe, png.seeds, png.grid]).toEqual([5, [4, 5, 6, 7], '2x2'])
    expect(png.keySteps).toEqual(json.keySteps)
  })

  it('rejects with the API error envelope and the status', async () => {
    const unknown = await rejection(api.schedule('nope', 20))
    expect([unknown.status, unknown.code, unknown.field]).toEqual([404, 'unknown_model', 'model'])
    expect(unknown.allowed).toEqual([TOY, 'other-model'].sort())
    const budget = await rejection(
      api.generate({ model: TOY, class: 1, budget: 999, format: 'json' }),
    )
    expect([budget.status, budget.code, budget.field]).toEqual([400, 'invalid_field', 'budget'])
    expect(budget.message).toContain('no 999-key plan')
    const noToken = createClient({ baseUrl: 'http://api.test', fetch: viaApp })
    const denied = await rejection(noToken.generate({ model: TOY, class: 1, format: 'json' }))
    expect([denied.status, denied.code]).toEqual([401, 'unauthorized'])
  })

  it('a host that does not answer is status 0, network_error; a non-JSON answer keeps its text', async () => {
    const down = createClient({ baseUrl: 'http://127.0.0.1:1' })
    const e = await rejection(down.models())
    expect([e.status, e.code]).toEqual([0, 'network_error'])
    const html = createClient({
      fetch: async () => new Response('<h1>bad gateway</h1>', { status: 502 }),
    })
    const g = await rejection(html.models())
    expect([g.status, g.code, g.message]).toEqual([
      502,
      'http_error',
      'HTTP 502: <h1>bad gateway</h1>',
    ])
  })
})
