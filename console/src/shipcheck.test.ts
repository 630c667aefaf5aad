import { describe, expect, it } from 'vitest'
import { check } from './shipcheck'

describe('check', () => {
  const known = new Map([
    ['1V97MT7DS40RDK', 'issued'],
    ['1V97MT7DS40RDM', 'sold'],
    ['1V97MT7DS40RDN', 'void'],
  ])
  it('accepts a free code of the product once', () => {
    expect(check('1V97MT7DS40RDK', known, new Set(), 0, 2)).toBe('ok')
    expect(check('1V97MT7DS40RDK', known, new Set(['1V97MT7DS40RDK']), 1, 2)).toBe('duplicate')
  })
  it('refuses what cannot ship', () => {
    expect(check('1V97MT7DS40RDI', known, new Set(), 0, 2)).toBe('malformed') // I is not base 32
    expect(check('1V97MT7DS40RDP', known, new Set(), 0, 2)).toBe('unknown')
    expect(check('1V97MT7DS40RDM', known, new Set(), 0, 2)).toBe('sold')
    expect(check('1V97MT7DS40RDN', known, new Set(), 0, 2)).toBe('void')
    expect(check('1V97MT7DS40RDK', known, new Set(), 2, 2)).toBe('full')
  })
})
