import { describe, expect, it } from 'vitest'
import { fenOf } from './money'

describe('fenOf', () => {
  it('reads yuan as typed into fen', () => {
    expect(fenOf('12')).toBe(1200)
    expect(fenOf('12.5')).toBe(1250)
    expect(fenOf('0.07')).toBe(7)
    expect(fenOf('¥1,234.56')).toBe(123456)
    expect(fenOf('０.５')).toBe(50)
    expect(fenOf('19.99')).toBe(1999) // 19.99 * 100 is 1998.9999999999998 in floating point
  })
  it('refuses what is not an amount', () => {
    expect(fenOf('')).toBeNull()
    expect(fenOf('1.234')).toBeNull()
    expect(fenOf('-1')).toBeNull()
    expect(fenOf('abc')).toBeNull()
  })
})
