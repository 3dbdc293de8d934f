import { describe, expect, it } from 'vitest'
import { drawText, textWidth } from './bitmap-font.ts'

/** The image as rows of '#' and '.', for readable expectations. */
const ascii = (data: Uint8Array, width: number) =>
  Array.from({ length: data.length / width }, (_, r) =>
    [...data.subarray(r * width, (r + 1) * width)].map((v) => (v ? '#' : '.')).join(''),
  )

describe('bitmap font', () => {
  it('draws glyphs left to right with one pixel between them', () => {
    const width = textWidth('K=1', 1)
    expect(width).toBe(17)
    const data = new Uint8Array(width * 7)
    drawText(data, width, 0, 0, 'K=1', 1, 255)
    expect(ascii(data, width)).toEqual([
      '#...#.........#..',
      '#..#.........##..',
      '#.#...#####...#..',
      '##............#..',
      '#.#...#####...#..',
      '#..#..........#..',
      '#...#........###.',
    ])
  })

  it('scales each font pixel to a block and refuses characters it lacks', () => {
    const data = new Uint8Array(10 * 14)
    drawText(data, 10, 0, 0, '-', 2, 9)
    expect(ascii(data, 10)[6]).toBe('##########')
    expect(ascii(data, 10)[5]).toBe('..........')
    expect(() => drawText(data, 10, 0, 0, 'é', 1, 1)).toThrow(/no glyph for 'é'/)
  })
})
