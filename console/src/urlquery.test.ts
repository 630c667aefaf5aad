import { describe, expect, it } from 'vitest'
import { choice, first, flag, id, month, period, read, region, safeRedirect, text, write, year, yuanText } from './urlquery'

describe('a page choice read from its URL', () => {
  it('takes a valid month and drops a bad one for the default', () => {
    const f = month('2026-10')
    expect(read(f, '2026-11')).toBe('2026-11')
    expect(read(f, ' 2026-11 ')).toBe('2026-11')
    for (const bad of ['2026-13', '2026-00', '2026-1', '26-11', '2026/11', '1999-12', '2101-01', 'abc', '', '2026-11-01'])
      expect(read(f, bad), bad).toBe('2026-10')
    expect(read(f, undefined)).toBe('2026-10')
    expect(read(f, null)).toBe('2026-10')
    expect(read(f, ['2026-09', '2026-08'])).toBe('2026-09') // a key given twice: the first
    expect(read(f, [null])).toBe('2026-10')
  })
  it('takes years and periods within their bounds', () => {
    const y = year(2026, 2021, 2027)
    expect(read(y, '2024')).toBe(2024)
    for (const bad of ['2020', '2028', '24', '2024.5', '2e3', ' ', 'x']) expect(read(y, bad), bad).toBe(2026)
    const p = period('2026-12')
    expect(read(p, '2026')).toBe('2026')
    expect(read(p, '2025-03')).toBe('2025-03')
    expect(read(p, '2025-3')).toBe('2026-12')
    expect(read(p, '3000')).toBe('2026-12')
  })
  it('takes region codes of any level, and empty only where it means all', () => {
    expect(read(region('433124'), '433124110226')).toBe('433124110226')
    expect(read(region('433124'), '43')).toBe('43')
    for (const bad of ['4', '433', '4331241', '43312411022', '4331241102261', '43a124', '-43']) expect(read(region('433124'), bad), bad).toBe('433124')
    expect(read(region('433124'), '')).toBe('433124')
    expect(read(region('433124', true), '')).toBe('')
  })
  it('takes free text up to its length, without control characters', () => {
    expect(read(text(), '蜂蜜')).toBe('蜂蜜')
    expect(read(text('', 3), 'abcd')).toBe('')
    expect(read(text(), 'a\u0000b')).toBe('')
    expect(read(text(), 'a\nb')).toBe('')
  })
  it('takes one of a list, yes/no, ids and amounts', () => {
    const sort = choice(['newest', 'price_asc'] as const, 'newest')
    expect(read(sort, 'price_asc')).toBe('price_asc')
    expect(read(sort, 'PRICE_ASC')).toBe('newest')
    expect(read(sort, 'constructor')).toBe('newest')
    expect(read(flag(true), '0')).toBe(false)
    expect(read(flag(false), '1')).toBe(true)
    expect(read(flag(true), 'false')).toBe(true)
    expect(write(flag(true), false)).toBe('0')
    expect(read(id(), '0190F3C2-7E1A-7B3C-8D4E-5F6A7B8C9D0E')).toBe('0190f3c2-7e1a-7b3c-8d4e-5f6a7b8c9d0e')
    expect(read(id(), '0190f3c2-7e1a-7b3c-8d4e')).toBe('')
    expect(read(id(), "1' OR '1'='1")).toBe('')
    expect(read(yuanText(), '12.5')).toBe('12.50')
    expect(read(yuanText(), '¥1,234')).toBe('1234')
    expect(read(yuanText(), '０.５')).toBe('0.50')
    expect(read(yuanText(), '1.234')).toBe('')
    expect(read(yuanText(), '-1')).toBe('')
  })
  it('reads the first of a repeated key, trimmed', () => {
    expect(first([' a ', 'b'])).toBe('a')
    expect(first(undefined)).toBeUndefined()
  })
})

describe('where the login goes afterwards', () => {
  it('goes to a page of the console, with its choices', () => {
    for (const ok of ['/admin/report?region=433124&month=2026-11', '/buyer/orders?open=0190f3c2-7e1a-7b3c-8d4e-5f6a7b8c9d0e',
      '/station/orders', '/admin/households?household=abc#x', '/buyer/catalog?q=%E8%9C%82%E8%9C%9C'])
      expect(safeRedirect(ok), ok).toBe(ok)
    expect(safeRedirect(['/station/orders', 'https://evil.example'])).toBe('/station/orders')
  })
  it('never to another site (no open redirect) nor back to the login', () => {
    for (const bad of ['https://evil.example/', 'http://evil.example', '//evil.example', '//evil.example/admin/report',
      '/\\evil.example', '\\\\evil.example', 'javascript:alert(1)', ' /admin/report', 'admin/report', '/%2e%2e/%2e%2e/evil',
      '/../admin', '/admin/../../x', '/\t/evil.example', '/\n/evil.example', 'data:text/html,x', '/login', '/login?redirect=/x',
      '', undefined, null, [null], 'https:/evil.example'])
      expect(safeRedirect(bad as string), String(bad)).toBeNull()
  })
})
