// useQueryState keeps a page's choices in its URL's query string (urlquery.ts reads each one):
// the page opens on the choices of its URL (a reload, a shared link), a choice applied is pushed
// as a new history entry, and back/forward brings the earlier choices back and shows them again.
// A default is left out of the URL, except a dated one (a month, a year: urlquery's Field.dated),
// which a page opened without it writes in place, so that the link names the month it shows.
import { reactive, watch } from 'vue'
import { useRoute, useRouter, type LocationQuery, type LocationQueryRaw } from 'vue-router'
import { read, write, type Field } from './urlquery'

type Fields<S> = { [K in keyof S]: Field<S[K]> }

let tidying: Promise<void> = Promise.resolve()

export function useQueryState<S extends Record<string, string | number | boolean>>(fields: Fields<S>, apply: () => unknown) {
  const route = useRoute()
  const router = useRouter()
  const path = route.path
  const keys = Object.keys(fields) as (keyof S & string)[]
  const parse = (q: LocationQuery) => Object.fromEntries(keys.map((k) => [k, read(fields[k], q[k])])) as unknown as S
  const key = (s: S) => JSON.stringify(keys.map((k) => s[k]))

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
      if (key(s) === shown) return
      Object.assign(state, s)
      shown = key(s)
      void apply()
    },
  )

  /** query is the URL's query for the values given: a default is left out unless it is dated,
   * other keys are kept. */
  function query(s: S): LocationQueryRaw {
    const q: LocationQueryRaw = { ...route.query }
    for (const k of keys) {
      const text = write(fields[k], s[k])
      if (!fields[k].dated && text === write(fields[k], fields[k].def)) delete q[k]
      else q[k] = text
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
      const normal = router.resolve({ query: query(parse(route.query)) })
      if (normal.fullPath !== route.fullPath) return router.replace(normal).then(() => undefined)
    }).catch(() => undefined) // a failed navigation must not stop the next page's tidying
  }
  tidy()

  return { state, commit }
}
