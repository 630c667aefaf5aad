import { describe, expect, it } from 'vitest'
import { afterLast, readRows, type Chunk } from './paged'

// A list of 0..n-1 paged by the last row's value, as GET /households pages by id.
function list(n: number) {
  const calls: [number, string][] = []
  const rows = Array.from({ length: n }, (_, i) => ({ id: String(i).padStart(4, '0') }))
  const fetch = async (limit: number, cursor: string): Promise<Chunk<{ id: string }>> => {
    calls.push([limit, cursor])
    const from = cursor ? rows.findIndex((r) => r.id === cursor) + 1 : 0
    const got = rows.slice(from, from + limit)
    return { rows: got, next: afterLast(got, limit) }
  }
  return { fetch, calls }
}

describe('readRows', () => {
  it('reads pages shown in one request when the API takes that many', async () => {
    const l = list(200)
    const got = await readRows(150, 500, l.fetch)
    expect(got?.rows.length).toBe(150)
    expect(got?.next).toBe('0149')
    expect(l.calls).toEqual([[150, '']])
  })

  it('reads in the largest pages the API takes, then stops at the end of the list', async () => {
    const l = list(230)
    const got = await readRows(300, 100, l.fetch)
    expect(got?.rows.map((r) => r.id)).toEqual(Array.from({ length: 230 }, (_, i) => String(i).padStart(4, '0')))
    expect(got?.next).toBe('')
    expect(l.calls).toEqual([[100, ''], [100, '0099'], [100, '0199']])
  })

  it('reads the page after a cursor (load more)', async () => {
    const l = list(120)
    const got = await readRows(50, 500, l.fetch, '0049')
    expect(got?.rows[0].id).toBe('0050')
    expect(got?.rows.length).toBe(50)
    expect(l.calls).toEqual([[50, '0049']])
  })

  it('answers null when a request fails', async () => {
    let n = 0
    const got = await readRows(100, 50, async () => (n++ ? null : { rows: [{ id: 'a' }], next: 'a' }))
    expect(got).toBeNull()
  })
})
