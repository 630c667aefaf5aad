// Helpers of the station operator's pages: shares typed in percent, read as text into basis
// points (no floating point), prices written back as yuan to edit, and the station's villages.
// Prices typed in yuan are read by money.ts.
import { reactive } from 'vue'
import { api } from './api/client'

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
