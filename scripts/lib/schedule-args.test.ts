import { describe, expect, it } from 'vitest'
import { refineErrorNamed } from './schedule-args.ts'

describe('refineErrorNamed', () => {
  it('takes the short and the recorded names, and nothing else', () => {
    expect(refineErrorNamed('mse')).toBe('final-image-mse')
    expect(refineErrorNamed('log-mse')).toBe('final-image-log-mse')
    expect(refineErrorNamed('final-image-mse')).toBe('final-image-mse')
    expect(refineErrorNamed('final-image-log-mse')).toBe('final-image-log-mse')
    for (const bad of ['psnr', 'MSE', '', 'toString', '__proto__'])
      expect(refineErrorNamed(bad)).toBeUndefined()
  })
})
