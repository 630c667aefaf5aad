// useQueryState keeps a page's choices in its URL's query string (urlquery.ts reads each one):
// the page opens on the choices of its URL (a reload, a shared link), a choice applied is pushed
// as a new history entry, and back/forward brings the earlier choices back and shows them again.
// A default is left out of the URL, except a dated one (a month, a year: urlquery's Field.dated),
// which a page opened without it writes in place, so that the link names the month it shows.
// A "load more" list (paged: true) also keeps how many pages it shows (?pages=N, left out for 1):
// loading one more replaces the entry (back leaves the page, as before), new choices show page 1.
import { reactive, ref, watch } from 'vue'
import { useRoute, useRouter, type LocationQuery, type LocationQueryRaw } from 'vue-router'
import { pages as pagesField, read, write, type Field } from './urlquery'

type Fields<S> = { [K in keyof S]: Field<S[K]> }

let tidying: Promise<void> = Promise.resolve()

/** The most pages a link may ask a list for (pages=N); a list shown longer is linked at this many. */
export const MAX_PAGES = 20

export interface Options {
  /** paged: the page is a "load more" list; `pages` is how many it shows, `more` counts one more. */
  paged?: boolean
}

export function useQueryState<S extends Record<string, string | number | boolean>>(fields: Fields<S>, apply: () => unknown, options: Options = {}) {
  const route = useRoute()
  const router = useRouter()
  const path = route.path
  const keys = Object.keys(fields) as (keyof S & string)[]
  const parse = (q: LocationQuery) => Object.fromEntries(keys.map((k) => [k, read(fields[k], q[k])])) as unknown as S
  const key = (s: S) => JSON.stringify(keys.map((k) => s[k]))
  const paging = options.paged ? pagesField(MAX_PAGES) : null
  const readPages = (q: LocationQuery) => (paging ? read(paging, q.pages) : 1)
  /** How many pages the list shows (1 unless paged): what apply must load. */
  const pages = ref(readPages(route.query))

  // The form's values: what the URL says, edited by the page's inputs until applied.
  const state = reactive(parse(route.query)) as S
  let shown = key(state)

  // Back and forward (and a link to this page with other choices): show what the URL says.
  watch(
    () => route.query,
    (q) => {
      if (route.path !== path) return // leaving the page
      tidy() // a nav link to this page has no month: it shows the default and names it
      const s = parse(q)
      const p = readPages(q)
      if (key(s) === shown && p === pages.value) return
      Object.assign(state, s)
      shown = key(s)
      pages.value = p
      void apply()
    },
  )

  /** query is the URL's query for the values given: a default is left out unless it is dated,
   * other keys are kept. */
  function query(s: S, p = pages.value): LocationQueryRaw {
    const q: LocationQueryRaw = { ...route.query }
    for (const k of keys) {
      const text = write(fields[k], s[k])
      if (!fields[k].dated && text === write(fields[k], fields[k].def)) delete q[k]
      else q[k] = text
    }
    if (paging) {
      if (p > 1) q.pages = String(p)
      else delete q.pages
    }
    return q
  }

  /** commit applies the form's values: they go into the URL (a new history entry) when they are
   * all valid, and apply runs. A value that is not valid stays out of the URL, which keeps the
   * last good choices, and apply runs with it anyway, for the API to name the field. */
  function commit() {
    const checked = {} as S
    for (const k of keys) {
      const v = fields[k].parse(write(fields[k], state[k]).trim())
      if (v === undefined) return void apply()
      checked[k] = v
    }
    Object.assign(state, checked)
    shown = key(checked)
    pages.value = 1 // new choices (or the same asked again) show their first page
    const to = router.resolve({ query: query(checked) })
    if (to.fullPath !== route.fullPath) void router.push(to)
    void apply()
  }

  // A URL with a bad or needless value, or without a dated one, is put right in place (no new
  // entry): the address says what the page shows. Normalised is what the URL says, never the form,
  // which may hold an edit not applied. One after the other, each from the URL the last left: a
  // page with two sets of choices (AdminHouseholds) would otherwise put back the other's bad value.
  function tidy() {
    tidying = tidying.then(() => {
      if (route.path !== path) return // left the page meanwhile
      const normal = router.resolve({ query: query(parse(route.query), readPages(route.query)) })
      if (normal.fullPath !== route.fullPath) return router.replace(normal).then(() => undefined)
    }).catch(() => undefined) // a failed navigation must not stop the next page's tidying
  }
  tidy()

  /** more counts the page the list has just loaded after its others: the URL says how many it
   * shows, in place of its entry (no new one per page). */
  function more() {
    if (!paging || pages.value >= MAX_PAGES) return
    pages.value++
    const to = router.resolve({ query: query(parse(route.query)) })
    if (to.fullPath !== route.fullPath) void router.replace(to)
  }

  /** applied is the choices the URL holds, what the list shows: "load more" asks for the page after
   * those, whatever the form holds meanwhile (a search typed, not applied). */
  const applied = () => parse(route.query)

  return { state, commit, pages, more, applied }
}
