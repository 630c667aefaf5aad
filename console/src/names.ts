// Names of products and stations by id, for order lines (which carry ids only); loaded once.
import { reactive } from 'vue'
import { api } from './api/client'

export const productNames = reactive<Record<string, string>>({})
export const stationNames = reactive<Record<string, string>>({})
let loaded: Promise<void> | null = null

export function loadNames(): Promise<void> {
  loaded ??= (async () => {
    const [p, s] = await Promise.all([
      api.GET('/api/v1/products', { params: { query: { limit: 200 } } }),
      api.GET('/api/v1/stations'),
    ])
    for (const x of p.data?.products ?? []) productNames[x.id] = x.name
    for (const x of s.data?.stations ?? []) stationNames[x.id] = x.name
  })().catch(() => {
    loaded = null
  })
  return loaded
}
