import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, effectScope, type EffectScope } from 'vue'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { MAX_PAGES, useQueryState } from './querystate'
import { month, region, text, year } from './urlquery'

// useQueryState on a router of its own (memory history), run in the app's context as a page's
// setup would be: no DOM needed, the router and the watchers are the real ones.
const blank = { render: () => null }
let scopes: EffectScope[] = []
afterEach(() => {
  for (const s of scopes) s.stop()
  scopes = []
})

async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0))
}

// The county report's choices: a region whose default is fixed, a month whose default is dated.
const reportFields = () => ({ region: region('433124'), month: month('2026-11') })

async function open(url: string, from = '/start') {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/start', component: blank },
      { path: '/report', component: blank },
    ],
  })
  await router.push(from)
  await router.push(url)
  const apply = vi.fn()
  const app = createApp(blank)
  app.use(router)
  const scope = effectScope()
  scopes.push(scope)
  const page = app.runWithContext(() => scope.run(() => useQueryState(reportFields(), apply)))!
  await settle()
  return { router, page, apply }
}

const at = (r: Router) => r.currentRoute.value

describe('a page choice whose default is dated', () => {
  it('is written into the URL of a page opened without it, in place of the entry', async () => {
    const { router, page, apply } = await open('/report')
    expect(at(router).query).toEqual({ month: '2026-11' }) // the fixed default region stays out
    expect(page.state).toEqual({ region: '433124', month: '2026-11' })
    expect(apply).not.toHaveBeenCalled() // the page loads itself; writing the URL loads nothing
    router.back() // replaced, not pushed: back leaves the page
    await settle()
    expect(at(router).path).toBe('/start')
  })

  it('stays in the URL when the default is applied again, as a new entry', async () => {
    const { router, page, apply } = await open('/report?month=2026-05&region=43')
    expect(at(router).fullPath).toBe('/report?month=2026-05&region=43') // a link is kept as it is
    page.state.month = '2026-11'
    page.state.region = '433124'
    page.commit()
    await settle()
    expect(at(router).query).toEqual({ month: '2026-11' })
    expect(apply).toHaveBeenCalledTimes(1)
    router.back()
    await settle()
    expect(at(router).query).toEqual({ month: '2026-05', region: '43' })
    expect(page.state).toEqual({ region: '43', month: '2026-05' })
  })

  it('replaces a bad month of a link by the default, named in the URL', async () => {
    const { router, page } = await open('/report?month=2026-13&region=43')
    expect(at(router).query).toEqual({ month: '2026-11', region: '43' })
    expect(page.state.month).toBe('2026-11')
  })

  it('is written when a link to the same page leaves it out (the nav), which shows the default', async () => {
    const { router, page, apply } = await open('/report?month=2026-05')
    await router.push('/report')
    await settle()
    expect(page.state.month).toBe('2026-11')
    expect(apply).toHaveBeenCalledTimes(1)
    expect(at(router).query).toEqual({ month: '2026-11' })
    router.back() // the nav's entry was put right in place: back is the month of before
    await settle()
    expect(at(router).query).toEqual({ month: '2026-05' })
    expect(page.state.month).toBe('2026-05')
  })

  it('writes a number (a year) as its text, and keeps a form edit not applied out of the URL', async () => {
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/report', component: blank }] })
    await router.push('/report')
    const app = createApp(blank)
    app.use(router)
    const scope = effectScope()
    scopes.push(scope)
    const page = app.runWithContext(() => scope.run(() => useQueryState({ year: year(2026, 2021, 2027) }, () => undefined)))!
    page.state.year = 2024 // typed, not applied
    await settle()
    expect(at(router).query).toEqual({ year: '2026' })
  })
})

describe('a page choice whose default is fixed', () => {
  it('is left out of the URL', async () => {
    const { router } = await open('/report?region=433124&month=2026-05')
    expect(at(router).query).toEqual({ month: '2026-05' })
  })
})

describe('a "load more" list (paged)', () => {
  async function openList(url: string) {
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/start', component: blank }, { path: '/list', component: blank }] })
    await router.push('/start')
    await router.push(url)
    const apply = vi.fn()
    const app = createApp(blank)
    app.use(router)
    const scope = effectScope()
    scopes.push(scope)
    const page = app.runWithContext(() => scope.run(() => useQueryState({ q: text() }, apply, { paged: true })))!
    await settle()
    return { router, page, apply }
  }

  it('opens on the pages of its URL, and counts one more in place of the entry', async () => {
    const { router, page, apply } = await openList('/list?q=honey&pages=3')
    expect(page.pages.value).toBe(3)
    page.more()
    await settle()
    expect(at(router).query).toEqual({ q: 'honey', pages: '4' })
    expect(apply).not.toHaveBeenCalled() // the page loaded the page itself
    router.back() // replaced, not pushed: back leaves the list
    await settle()
    expect(at(router).path).toBe('/start')
  })

  it('shows the first page of new choices, and back shows the pages of before again', async () => {
    const { router, page, apply } = await openList('/list?q=honey')
    page.more()
    await settle()
    expect(at(router).query).toEqual({ q: 'honey', pages: '2' })
    page.state.q = 'rice'
    page.commit()
    await settle()
    expect(at(router).query).toEqual({ q: 'rice' })
    expect(page.pages.value).toBe(1)
    router.back()
    await settle()
    expect(at(router).query).toEqual({ q: 'honey', pages: '2' })
    expect(page.pages.value).toBe(2)
    expect(apply).toHaveBeenCalledTimes(2) // the commit, then back
  })

  it('answers the choices shown, not an edit of the form not applied', async () => {
    const { page } = await openList('/list?q=honey&pages=2')
    page.state.q = 'rice' // typed, not applied
    expect(page.applied()).toEqual({ q: 'honey' })
  })

  it('puts a bad or needless count right in place, and caps a large one', async () => {
    expect(at((await openList('/list?pages=0')).router).query).toEqual({})
    expect(at((await openList('/list?pages=1')).router).query).toEqual({})
    expect(at((await openList('/list?pages=abc&q=x')).router).query).toEqual({ q: 'x' })
    const big = await openList('/list?pages=9999')
    expect(big.page.pages.value).toBe(MAX_PAGES)
    expect(at(big.router).query).toEqual({ pages: String(MAX_PAGES) })
  })
})
