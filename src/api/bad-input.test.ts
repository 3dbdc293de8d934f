import { describe } from 'vitest'
import { runBadInputSuite } from '../../test/contract/bad-input.ts'
import { toyEngine, toyStore, TOY } from '../../test/fixtures/toy.ts'
import { createApp } from './index.ts'
import { localGenerate } from './local.ts'

const store = toyStore()
const app = createApp({ schedules: store, generate: localGenerate(await toyEngine(), store) })

const minCost = Math.min(...(await store.get(TOY, 20))!.plans.map((p) => p.cost))

describe('bad input through app.request', () => {
  runBadInputSuite(async (path, init) => app.request(path, init), {
    model: TOY,
    classes: 10,
    steps: 20,
    minBudget: 3,
    missingSteps: 11,
    minCost,
    schedulesOnly: 'other-model',
    runnable: [TOY],
  })
})
