import { describe, expect, it } from 'vitest'
import { axisYuan, parseCodes, percent, previousMonth, yuan, chinaTime, thousands } from './format'

describe('format', () => {
  it('writes fen as yuan', () => {
    expect(yuan(123456)).toBe('¥1,234.56')
    expect(yuan(-5)).toBe('-¥0.05')
    expect(yuan(0)).toBe('¥0.00')
    expect(yuan(100)).toBe('¥1.00')
    expect(yuan(99999)).toBe('¥999.99')
    expect(yuan(100000)).toBe('¥1,000.00')
    expect(yuan(123456789012)).toBe('¥1,234,567,890.12')
    for (const n of [0, 7, 999, 1000, 12345, 999999, 1000000, 98765432109]) expect(thousands(n)).toBe(n.toLocaleString('en-US'))
  })
  it('reads China time', () => {
    expect(chinaTime('2026-01-31T16:30:00Z')).toBe('2026-02-01 00:30')
    expect(previousMonth(new Date('2026-01-31T16:30:00Z'))).toBe('2026-01')
    expect(previousMonth(new Date('2026-01-15T00:00:00Z'))).toBe('2025-12')
  })
  it('reads pasted codes in any of their printed forms', () => {
    expect(parseCodes('1v97mt7ds40rdk\n1V97M-T7DS4-0RDK, http://localhost:8080/t/4BY1QRAGYKYAXF；X')).toEqual([
      '1V97MT7DS40RDK',
      '1V97MT7DS40RDK',
      '4BY1QRAGYKYAXF',
      'X',
    ])
  })
})

describe('percent', () => {
  it('shows basis points as a percentage, decimals only when needed', () => {
    expect(percent(3000)).toBe('30%')
    expect(percent(1234)).toBe('12.34%')
    expect(percent(1205)).toBe('12.05%')
    expect(percent(0)).toBe('0%')
  })
  it('writes a chart axis in 万 on a narrow screen only', () => {
    expect(axisYuan(12000, false)).toBe('¥12,000')
    expect(axisYuan(12000, true)).toBe('1.2万')
    expect(axisYuan(20000, true)).toBe('2万')
    expect(axisYuan(5000, true)).toBe('¥5,000')
  })
})
