// "Load more" lists keep how many pages they show in the URL (?pages=3, querystate.ts), so a reload,
// a shared link and back from another page show the same rows, not the first page only.

/** One request's answer: its rows, and the cursor of the rows after them ('' when the list ended). */
export interface Chunk<T> {
  rows: T[]
  next: string
}

/**
 * readRows reads `want` rows of a cursor-paged list from `cursor` ('' for its start), in as few
 * requests as the API's largest page (`max` rows) allows: a reload of a list showing 3 pages of 50
 * asks for 150 rows once where the API takes 150 at a time. `fetch(limit, cursor)` makes one request
 * (null when it failed: readRows answers null, the page has named the error). The answer's `next`
 * is the cursor for the page after, '' when there is none.
 */
export async function readRows<T>(want: number, max: number, fetch: (limit: number, cursor: string) => Promise<Chunk<T> | null>, cursor = ''): Promise<Chunk<T> | null> {
  const rows: T[] = []
  let next = cursor
  do {
    const got = await fetch(Math.min(want - rows.length, max), next)
    if (!got) return null
    rows.push(...got.rows)
    next = got.next
  } while (next && rows.length < want)
  return { rows, next }
}

/** afterLast is the cursor of a list paged by its rows' ids (after=…, before=…): the last row's id
 * when the answer was full (there may be more), else '' (it was the last page). */
export function afterLast<T extends { id: string }>(rows: T[], limit: number): string {
  return rows.length === limit && rows.length ? rows[rows.length - 1].id : ''
}
