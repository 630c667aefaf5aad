import { describe, expect, it } from 'vitest'
import { bpOf, evenly, fenOf, pctText, yuanText } from './station'

describe('station inputs', () => {
  it('reads yuan as fen without floating point', () => {
    expect(fenOf('68')).toBe(6800)
    expect(fenOf('68.5')).toBe(6850)
    expect(fenOf(' ¥1,068.05 ')).toBe(106805)
    expect(fenOf('0.07')).toBe(7)
    expect(fenOf('19.999')).toBeNaN()
    expect(fenOf('-1')).toBeNaN()
    expect(fenOf('abc')).toBeNaN()
    expect(yuanText(106805)).toBe('1068.05')
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
