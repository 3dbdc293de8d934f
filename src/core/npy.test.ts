import { describe, expect, it } from 'vitest'
import { NpyError, parseNpy, writeNpy } from './npy.ts'

describe('npy', () => {
  it('round-trips float64 and float32 C-order arrays, including +Infinity', () => {
    const f64 = Float64Array.from({ length: 2 * 3 * 3 }, (_, k) => (k % 5 === 0 ? Infinity : k / 7))
    const back = parseNpy(writeNpy({ shape: [2, 3, 3], data: f64 }))
    expect(back.dtype).toBe('float64')
    expect(back.shape).toEqual([2, 3, 3])
    expect(Array.from(back.data)).toEqual(Array.from(f64))
    const f32 = Float32Array.of(1.5, -2, 3)
    const back32 = parseNpy(writeNpy({ shape: [3], data: f32 }))
    expect(back32.dtype).toBe('float32')
    expect(back32.shape).toEqual([3])
    expect(Array.from(back32.data)).toEqual([1.5, -2, 3])
  })

  it('writes the header numpy writes: 64-byte aligned, version 1.0', () => {
    const bytes = writeNpy({ shape: [2, 2], data: new Float64Array(4) })
    const headerLen = bytes[8] | (bytes[9] << 8)
    expect((10 + headerLen) % 64).toBe(0)
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen))
    expect(header).toMatch(/^\{'descr': '<f8', 'fortran_order': False, 'shape': \(2, 2\), \} *\n$/)
  })

  it('reads a numpy-style header with unaligned payload offset and version 2', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n"
    const bytes = new Uint8Array(12 + header.length + 8)
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0])
    new DataView(bytes.buffer).setUint32(8, header.length, true)
    bytes.set(new TextEncoder().encode(header), 12)
    new DataView(bytes.buffer).setFloat32(12 + header.length, 0.25, true)
    new DataView(bytes.buffer).setFloat32(16 + header.length, 4, true)
    expect(Array.from(parseNpy(bytes).data)).toEqual([0.25, 4])
  })

  it('rejects what it cannot read, saying what is wrong', () => {
    expect(() => parseNpy(new Uint8Array(20))).toThrow(NpyError)
    const mk = (h: string) => {
      const b = new Uint8Array(10 + h.length + 16)
      b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0])
      new DataView(b.buffer).setUint16(8, h.length, true)
      b.set(new TextEncoder().encode(h), 10)
      return b
    }
    expect(() => parseNpy(mk("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }"))).toThrow(
      /unsupported dtype '<i8'/,
    )
    expect(() => parseNpy(mk("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }"))).toThrow(
      /Fortran/,
    )
    expect(() => parseNpy(mk("{'descr': '<f8', 'fortran_order': False, 'shape': (9,), }"))).toThrow(
      /truncated/,
    )
  })
})
