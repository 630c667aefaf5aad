// Amounts typed in yuan become integer fen by reading the digits, never through a float.

/**
 * fenOf reads a yuan amount as typed ("12", "12.5", "¥1,234.56", "０.５") and returns fen, or null
 * when the text is not an amount of at most two decimals. Empty text is null too.
 */
export function fenOf(text: string): number | null {
  const s = text
    .replace(/[\uFF10-\uFF19\uFF0E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)) // full-width
    .replace(/[¥￥,，\s]/g, '')
  const m = /^(\d{1,12})(?:\.(\d{0,2}))?$/.exec(s)
  if (!m) return null
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}
