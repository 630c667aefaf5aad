import { describe, expect, it } from 'vitest'
import { bpOf, evenly, pctText, yuanText } from './station'

describe('station inputs', () => {
  it('writes fen as yuan to edit', () => {
    expect(yuanText(106805)).toBe('1068.05')
    expect(yuanText(7)).toBe('0.07')
  })
  it('reads percent as basis points', () => {
    expect(bpOf('33.34')).toBe(3334)
    expect(bpOf('100')).toBe(10000)
    expect(bpOf('12.5%')).toBe(1250)
    expect(bpOf('1.234')).toBeNaN()
    expect(pctText(3334)).toBe('33.34')
    expect(pctText(5000)).toBe('50')
  })
  it('splits evenly to exactly 10000', () => {
    expect(evenly(3)).toEqual([3334, 3333, 3333])
    expect(evenly(7).reduce((a, b) => a + b, 0)).toBe(10000)
    expect(evenly(0)).toEqual([])
  })
})
