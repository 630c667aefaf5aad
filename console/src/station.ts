// Helpers of the station operator's pages: money typed in yuan, shares typed in percent, both
// read as text into integers (no floating point near money), and the station's villages.
import { reactive } from 'vue'
import { api } from './api/client'

/** fenOf reads a price typed in yuan ("68", "68.5", "68.50", "¥1,068.00") as integer fen; NaN when it is not one. */
export function fenOf(text: string): number {
  const s = text.trim().replace(/^[¥￥]/, '').replace(/,/g, '')
  const m = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(s)
  if (!m) return NaN
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/** yuanText writes fen as a yuan amount to edit ("68.50"). */
export function yuanText(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`
}

/** bpOf reads a share typed in percent ("33.34") as basis points; NaN when it is not one. */
export function bpOf(text: string): number {
  const m = /^(\d{1,3})(?:\.(\d{0,2}))?$/.exec(text.trim().replace(/%$/, ''))
  if (!m) return NaN
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'))
}

/** pctText writes basis points as a percent to edit ("33.34"). */
export function pctText(bp: number): string {
  return bp % 100 === 0 ? String(bp / 100) : `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')}`
}

/** evenly splits 10000 basis points among n suppliers, the remainder to the first ones. */
export function evenly(n: number): number[] {
  if (n <= 0) return []
  const base = Math.floor(10000 / n)
  return Array.from({ length: n }, (_, i) => base + (i < 10000 - base * n ? 1 : 0))
}

/** villageNames maps region codes to names (public lookup), filled as they are asked for. */
export const villageNames = reactive<Record<string, string>>({})
export async function nameRegions(codes: string[]): Promise<void> {
  await Promise.all(
    [...new Set(codes)].filter((c) => !(c in villageNames)).map(async (code) => {
      villageNames[code] = code
      const { data } = await api.GET('/api/v1/regions/{code}', { params: { path: { code } } })
      if (data) villageNames[code] = data.region.name
    }),
  )
}
