import { decode } from 'fast-png'
import { describe, expect, it } from 'vitest'
import { encodePng, gridShape } from './png.ts'

const dims = { channels: 1, height: 2, width: 3 }

describe('encodePng', () => {
  it('maps [-1, 1] to 0..255 with clamping, one gray image', () => {
    const img = Float32Array.from([-1, 0, 1, -2, 2, 0.5])
    const { png, columns, rows } = encodePng([img], dims)
    const d = decode(png)
    expect([d.width, d.height, d.channels, d.depth, columns, rows]).toEqual([3, 2, 1, 8, 1, 1])
    expect([...d.data]).toEqual([0, 128, 255, 0, 255, 191])
  })

  it('tiles several images row by row into a near-square grid', () => {
    const imgs = [0, 1, 2].map((k) => new Float32Array(6).fill(k === 0 ? -1 : k === 1 ? 0 : 1))
    const { png, columns, rows } = encodePng(imgs, dims)
    const d = decode(png)
    expect([columns, rows, d.width, d.height]).toEqual([2, 2, 6, 4])
    const at = (x: number, y: number) => d.data[y * d.width + x]
    expect([at(0, 0), at(3, 1), at(0, 2), at(5, 3)]).toEqual([0, 128, 255, 0])
  })

  it('interleaves RGB from channel-first pixels', () => {
    const img = new Float32Array(3 * 6)
    img.fill(1, 0, 6) // red plane
    const d = decode(encodePng([img], { ...dims, channels: 3 }).png)
    expect(d.channels).toBe(3)
    expect([...d.data.slice(0, 6)]).toEqual([255, 128, 128, 255, 128, 128])
  })

  it('rejects wrong sizes and channel counts', () => {
    expect(() => encodePng([new Float32Array(5)], dims)).toThrow(RangeError)
    expect(() => encodePng([new Float32Array(12)], { ...dims, channels: 2 })).toThrow(RangeError)
    expect(() => encodePng([], dims)).toThrow(RangeError)
  })

  it('lays out batches as expected', () => {
    expect([1, 2, 4, 5, 8, 16].map((n) => gridShape(n))).toEqual([
      { columns: 1, rows: 1 },
      { columns: 2, rows: 1 },
      { columns: 2, rows: 2 },
      { columns: 3, rows: 2 },
      { columns: 3, rows: 3 },
      { columns: 4, rows: 4 },
    ])
  })
})
