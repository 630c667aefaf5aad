// Money is integer fen in the API; people read yuan.
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : ''
  const a = Math.abs(fen)
  return `${sign}¥${thousands(Math.floor(a / 100))}.${String(a % 100).padStart(2, '0')}`
}

/** thousands writes a whole number ≥ 0 with commas between groups of three digits (1234567 →
 * "1,234,567"), as toLocaleString('en-US') does; the first toLocaleString of a page loads the
 * browser's number formatting data: 55 ms of the catalogue's first render under a 4× slower CPU
 * (Lighthouse's mobile profile), inside its longest task. */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',')
}

/** chinaTime shows an instant in China Standard Time, to the minute. */
export function chinaTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(new Date(iso).getTime() + 8 * 3600_000)
  return d.toISOString().slice(0, 16).replace('T', ' ')
}

/** previousMonth is YYYY-MM of last month in China time. */
export function previousMonth(now = new Date()): string {
  const d = new Date(now.getTime() + 8 * 3600_000)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth() // 0-based: this month - 1 in 1-based terms
  return m === 0 ? `${y - 1}-12` : `${y}-${String(m).padStart(2, '0')}`
}

/**
 * parseCodes reads what a station operator pastes or a scanner types: codes separated by spaces,
 * commas or lines, each either bare (1V97MT7DS40RDK), grouped for reading (1V97M-T7DS4-0RDK) or
 * the label's URL (…/t/1V97MT7DS40RDK). Returns upper-case 14-character candidates, in order.
 */
export function parseCodes(text: string): string[] {
  return text
    .split(/[\s,，;；]+/)
    .filter(Boolean)
    .map((t) => {
      const i = t.lastIndexOf('/t/')
      const s = i >= 0 ? t.slice(i + 3) : t.includes('/') ? t.slice(t.lastIndexOf('/') + 1) : t
      return s.replace(/[-\s]/g, '').toUpperCase()
    })
}

/** percent shows basis points (1/100 of a percent) as a percentage: 3000 → "30%", 1234 → "12.34%". */
export function percent(bp: number): string {
  return `${(bp / 100).toFixed(bp % 100 ? 2 : 0)}%`
}

/**
 * axisYuan labels a value axis counted in yuan: "¥12,000"; when `short` (a phone's narrow chart)
 * amounts from 10,000 yuan are written in 万 ("1.2万"), so neighbouring labels do not collide.
 */
export function axisYuan(v: number, short: boolean): string {
  if (short && Math.abs(v) >= 10000) return `${Number((v / 10000).toFixed(1))}万`
  return `¥${v.toLocaleString('en-US')}`
}
