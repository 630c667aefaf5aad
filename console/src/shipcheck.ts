// Checks each code a station operator adds to a line before anything is sent: its form, that it
// is not added twice, and, against the codes of the line's product (loaded once per product from
// its batches), that it is this product's and still free (issued or activated, not sold or void).
import { api } from './api/client'

export type Verdict = 'ok' | 'malformed' | 'duplicate' | 'unknown' | 'sold' | 'void' | 'full'

const codeForm = /^[0-9A-HJKMNP-TV-Z]{14}$/ // 14 characters of Crockford's base 32

const byProduct = new Map<string, Promise<Map<string, string>>>()

/** productCodes maps each code of a product's batches to its status. */
export function productCodes(productId: string): Promise<Map<string, string>> {
  let p = byProduct.get(productId)
  if (!p) {
    p = (async () => {
      const out = new Map<string, string>()
      const { data } = await api.GET('/api/v1/products/{id}/batches', { params: { path: { id: productId } } })
      for (const b of data?.batches ?? []) {
        let after: string | undefined
        for (;;) {
          const page = await api.GET('/api/v1/batches/{id}/codes', {
            params: { path: { id: b.id }, query: { after, limit: 1000 } },
          })
          const codes = page.data?.codes ?? []
          for (const c of codes) out.set(c.code, c.status)
          if (codes.length < 1000) break
          after = codes[codes.length - 1].code
        }
      }
      return out
    })()
    byProduct.set(productId, p)
    p.catch(() => byProduct.delete(productId))
  }
  return p
}

/** forget drops what is known of a product's codes (after a shipment sold some). */
export function forget(productId: string) {
  byProduct.delete(productId)
}

/** check judges one more code for a line that already holds `taken` (all lines' codes) and `have` of `quantity`. */
export function check(code: string, known: Map<string, string>, taken: Set<string>, have: number, quantity: number): Verdict {
  if (!codeForm.test(code)) return 'malformed'
  if (taken.has(code)) return 'duplicate'
  if (have >= quantity) return 'full'
  const status = known.get(code)
  if (!status) return 'unknown'
  if (status === 'sold') return 'sold'
  if (status === 'void') return 'void'
  return 'ok'
}
