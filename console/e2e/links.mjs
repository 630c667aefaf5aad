// Deep links and choices in the URL (imported by run.mjs, which passes its helpers):
// a link opened signed out goes to the login and, after it, to where it was going (never to
// another site); a page's choices (the report's region and month, the catalogue's search and
// filters, the households' filters and the household open) are in the URL, so a reload keeps
// them and back/forward brings the earlier ones back; a bad month in a link shows the default;
// a default month is named in the URL all the same (it moves with the date, a link must not).
// "Load more" lists (households, audit log, catalogue) keep how many pages they show (?pages=N);
// a unit, household or order opened from a link is marked where it is listed and scrolled to.
import { until } from './buyer.mjs'

// A resident ID number with its GB 11643 check character, of a range of its own (born 1990-01-01;
// the county journey's are born 1980).
function idNumber(seq) {
  const body = `43312419900101${String(seq).padStart(3, '0')}`
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...body].reduce((s, d, i) => s + Number(d) * w[i], 0)
  return body + '10X98765432'[sum % 11]
}

// Enough rows for a second page, once per database (the phone and desktop runs share it): 60
// households imported (50 a page; each import is an entry of the audit log, 50 a page too) and 12
// products of 十八洞村's station (20 a page), not certified, so only a catalogue showing the
// uncertified (?certifiedOnly=0) lists them. Imported again, the roster changes nothing.
async function enoughForTwoPages(page) {
  const head = '户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型'
  const rows = Array.from({ length: 60 }, (_, i) => `E2E-LINKS-${String(i + 1).padStart(3, '0')},石秀英,${idNumber(i + 1)},,3,433124110226,脱贫户`)
  const csv = '\uFEFF' + [head, ...rows].join('\r\n') + '\r\n'
  return page.evaluate(async (csv) => {
    const s = JSON.parse(sessionStorage.getItem('fupin.session') ?? '{}')
    const h = { Authorization: `Bearer ${s.token}` }
    const form = new FormData()
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'links.csv')
    const imp = await fetch('/api/v1/households/import', { method: 'POST', headers: h, body: form })
    if (!imp.ok) throw new Error(`import: ${imp.status} ${await imp.text()}`)
    const listed = await (await fetch(`/api/v1/catalog/products?q=${encodeURIComponent('链接测试品')}&certified=any&in_stock=any&limit=100`, { headers: h })).json()
    const json = { ...h, 'Content-Type': 'application/json' }
    const stations = (await (await fetch('/api/v1/stations', { headers: h })).json()).stations
    const station = stations.find((x) => x.village_codes.includes('433124110226'))
    const hh = (await (await fetch('/api/v1/households?village_code=433124110226&limit=1', { headers: h })).json()).households[0]
    for (let n = listed.products.length + 1; n <= 12; n++) {
      const r = await fetch('/api/v1/products', {
        method: 'POST', headers: json,
        body: JSON.stringify({ station_id: station.id, name: `链接测试品 ${String(n).padStart(2, '0')}`, category: '测试', unit: '件',
          price_fen: 100 + n, stock: 1000, origin_code: '433124110226', suppliers: [{ household_id: hh.id, share_bp: 10000 }] }),
      })
      if (!r.ok) throw new Error(`product ${n}: ${r.status} ${await r.text()}`)
    }
    return (await imp.json())
  }, csv)
}

// inView: the element's top is on the screen.
async function inView(page, locator) {
  const box = await locator.boundingBox()
  const h = page.viewportSize().height
  return box !== null && box.y >= -2 && box.y < h
}

const chinaMonth = (d = new Date()) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 7)
function previousMonth() {
  const [y, m] = chinaMonth().split('-').map(Number)
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`
}

async function signIn(page, user, password = 'fupin-demo-2026') {
  await page.fill('input[name=username]', user)
  await page.fill('input[name=password]', password)
  await page.click('button[type=submit]')
}

const query = (page) => new URL(page.url()).searchParams
// The glob of waitForURL reads ? as a wildcard: URLs with a query are matched by a function.
const atLogin = (u) => u.pathname === '/console/login' && u.searchParams.has('redirect')

export async function linksJourney({ browser, base, viewport, tag, newPage, shot, expect }) {
  const month = chinaMonth() // the demo's sales are in this month (China time)
  const region = '433124'

  // 1. The county report of a month, linked, opened signed out: the login, then that report.
  let { context, page } = await newPage(browser, base, viewport, `links ${tag}`)
  const link = `/admin/report?region=${region}&month=${month}`
  await page.goto(`${base}/console${link}`)
  await page.waitForURL(atLogin)
  expect(query(page).get('redirect') === link, `${tag}: a report linked while signed out goes to the login, which keeps the link (${page.url()})`)
  await signIn(page, 'admin')
  await page.waitForURL((u) => u.pathname === '/console/admin/report' && u.search === `?region=${region}&month=${month}`)
  await page.locator('.income-chart[data-ready=true]').waitFor()
  const heading = (await page.locator('section h3').first().textContent()) ?? ''
  expect(heading.includes(month) && (await page.inputValue('input[name=month]')) === month,
    `${tag}: after the login the linked report of ${month} is shown (${heading.trim()})`)
  await shot(page, `links-report-${tag}`)

  // 2. Choices go into the URL; back and forward bring them back; a reload keeps them.
  await page.fill('input[name=month]', previousMonth())
  await page.getByRole('button', { name: '查看' }).click()
  // The default month is named too: it moves with the date, and the link must not.
  await page.waitForURL((u) => u.searchParams.get('month') === previousMonth())
  await page.locator('section h3', { hasText: previousMonth() }).first().waitFor()
  await page.fill('input[name=region_code]', '433124110226')
  await page.fill('input[name=month]', month)
  await page.getByRole('button', { name: '查看' }).click()
  await page.waitForURL((u) => u.searchParams.get('region') === '433124110226' && u.searchParams.get('month') === month)
  await page.locator('section h3', { hasText: month }).first().waitFor()
  expect(true, `${tag}: the chosen region and month are in the URL (${page.url()})`)
  await page.reload()
  await page.locator('section h3', { hasText: month }).first().waitFor()
  expect((await page.inputValue('input[name=region_code]')) === '433124110226' && (await page.inputValue('input[name=month]')) === month,
    `${tag}: a reload keeps the report's region and month`)
  await page.goBack()
  await until(async () => (await page.inputValue('input[name=month]')) === previousMonth(), `${tag}: back to the previous month`)
  await page.locator('section h3', { hasText: previousMonth() }).first().waitFor()
  expect((await page.inputValue('input[name=region_code]')) === region, `${tag}: back shows the previous choices again (${page.url()})`)
  await page.goForward()
  await page.locator('section h3', { hasText: month }).first().waitFor()
  expect((await page.inputValue('input[name=region_code]')) === '433124110226', `${tag}: forward shows the later choices again`)

  // 3. A bad month in a link: the default month, the address put right, no error.
  await page.goto(`${base}/console/admin/report?month=2026-13&region=${region}`)
  await page.locator('section h3', { hasText: previousMonth() }).first().waitFor()
  await page.waitForURL((u) => u.searchParams.get('month') === previousMonth())
  expect((await page.inputValue('input[name=month]')) === previousMonth(),
    `${tag}: a link with month=2026-13 shows the default month ${previousMonth()} and names it instead (${page.url()})`)
  // The report opened by the nav (no month) names the month it shows, in place of the nav's entry.
  await page.goto(`${base}/console/admin/report?month=${month}`)
  await page.locator('section h3', { hasText: month }).first().waitFor()
  await page.locator('nav a[href="/console/admin/report"]').click()
  await page.waitForURL((u) => u.pathname === '/console/admin/report' && u.search === `?month=${previousMonth()}`)
  await page.locator('section h3', { hasText: previousMonth() }).first().waitFor()
  await page.goBack()
  await page.waitForURL((u) => u.searchParams.get('month') === month)
  await page.locator('section h3', { hasText: month }).first().waitFor()
  expect(true, `${tag}: the report opened by the nav names ${previousMonth()} in its URL, and back is ${month} again`)

  // 4. A household's page: the drawer's household is in the URL; a reload reopens it, back closes it.
  await page.goto(`${base}/console/admin/households?status=bogus&household=nope`)
  await page.locator('.el-table__row').first().waitFor()
  await page.waitForURL((u) => !u.searchParams.has('status') && !u.searchParams.has('household'))
  expect((await page.locator('.household-drawer').count()) === 0 || !(await page.locator('.household-drawer').isVisible()),
    `${tag}: a households link with a bad status and household shows the list unfiltered and drops both (${page.url()})`)
  await page.goto(`${base}/console/admin/households?status=poor`)
  await page.locator('.el-table__row').first().waitFor()
  await page.locator('.el-table__row').first().click()
  await page.locator('.household-drawer').waitFor()
  await page.waitForURL((u) => /^[0-9a-f-]{36}$/.test(u.searchParams.get('household') ?? '') && u.searchParams.get('status') === 'poor')
  const household = query(page).get('household')
  const title = ((await page.locator('.household-drawer .el-drawer__title').textContent()) ?? '').trim()
  await page.reload()
  await page.locator('.household-drawer .el-drawer__title', { hasText: title }).waitFor()
  expect(true, `${tag}: a household's link (household=${household}) reopens its page after a reload (${title})`)
  await page.goBack()
  await page.waitForURL((u) => !u.searchParams.has('household'))
  await page.locator('.household-drawer').waitFor({ state: 'hidden' })
  expect(true, `${tag}: back closes the household's page`)

  // "Load more" keeps how many pages are shown: a reload, back from another page and a link to a
  // household of the second page show both pages, that household marked and scrolled to.
  await enoughForTwoPages(page)
  const rowsOf = (table) => page.locator(`${table} .el-table__body-wrapper .el-table__row`)
  await page.goto(`${base}/console/admin/households`)
  await until(async () => (await rowsOf('.households-table').count()) === 50, `${tag}: the first 50 households`)
  await page.getByRole('button', { name: '加载更多' }).click()
  await until(async () => (await rowsOf('.households-table').count()) > 50, `${tag}: the second page of households`)
  await page.waitForURL((u) => u.searchParams.get('pages') === '2')
  const shown = await rowsOf('.households-table').count()
  await page.reload()
  await until(async () => (await rowsOf('.households-table').count()) === shown, `${tag}: ${shown} households after a reload`)
  expect(query(page).get('pages') === '2', `${tag}: the households' two pages (${shown} rows) are in the URL and a reload shows them all (${page.url()})`)
  const deep = rowsOf('.households-table').nth(shown - 1)
  const deepArchive = ((await deep.locator('td').first().textContent()) ?? '').trim()
  await deep.click()
  await page.waitForURL((u) => u.searchParams.has('household') && u.searchParams.get('pages') === '2')
  const deepLink = page.url()
  await page.keyboard.press('Escape')
  await page.waitForURL((u) => !u.searchParams.has('household'))
  await page.click('a[href="/console/admin/audit"]')
  await rowsOf('.audit-table').first().waitFor()
  await page.goBack()
  await until(async () => (await rowsOf('.households-table').count()) === shown, `${tag}: ${shown} households back from the audit log`)
  expect(true, `${tag}: back from another page shows the households' two pages again`)
  await page.goto(deepLink)

  await page.locator('.household-drawer .el-drawer__title', { hasText: deepArchive }).waitFor()
  const marked = page.locator('.households-table .current-row')
  await until(async () => (await marked.count()) === 1 && (await inView(page, marked)), `${tag}: the linked household's row marked and in view`)
  expect(((await marked.locator('td').first().textContent()) ?? '').trim() === deepArchive,
    `${tag}: a link to a household of the second page (${deepArchive}) opens it, its row marked and scrolled into view behind it`)
  await shot(page, `links-household-deep-${tag}`)

  // The audit log's pages, the same way.
  await page.goto(`${base}/console/admin/audit`)
  await until(async () => (await rowsOf('.audit-table').count()) === 50, `${tag}: the first 50 audit entries`)
  await page.getByRole('button', { name: '加载更多' }).click()
  await page.waitForURL((u) => u.searchParams.get('pages') === '2')
  const entries = await rowsOf('.audit-table').count()
  await page.reload()
  await until(async () => (await rowsOf('.audit-table').count()) === entries, `${tag}: ${entries} audit entries after a reload`)
  expect(entries > 50, `${tag}: the audit log's two pages (${entries} entries) are in the URL and a reload shows them all`)

  // A unit's page: the unit chosen is in the URL, a reload shows it again, its row marked; a link
  // to it marks its row too, and back/forward moves the mark with the unit.
  await page.goto(`${base}/console/admin/units`)
  await page.locator('.units-table .el-table__row').first().click()
  await page.waitForURL((u) => /^[0-9a-f-]{36}$/.test(u.searchParams.get('unit') ?? ''))
  const unitTitle = ((await page.locator('.unit-card h3').first().textContent()) ?? '').trim()
  await page.reload()
  await page.locator('.unit-card h3', { hasText: unitTitle }).first().waitFor()
  expect(unitTitle !== '', `${tag}: a unit's link reopens its page after a reload (${unitTitle})`)
  const unitMark = page.locator('.units-table .current-row')
  await until(async () => (await unitMark.count()) === 1, `${tag}: the linked unit's row marked`)
  expect(unitTitle.startsWith(((await unitMark.locator('td').first().textContent()) ?? '').trim()) && (await inView(page, unitMark)),
    `${tag}: the linked unit's row is marked and in view (${await unitMark.locator('td').first().textContent()})`)
  // The year of its target is named in the URL (a link must not move to next year in January);
  // another year chosen is a new entry, kept by a reload.
  const thisYear = Number(chinaMonth().slice(0, 4))
  expect(query(page).get('year') === String(thisYear), `${tag}: the unit's page names the year it shows (${page.url()})`)
  await page.locator('.unit-card .year-select').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: String(thisYear - 1) }).click()
  await page.waitForURL((u) => u.searchParams.get('year') === String(thisYear - 1))
  await page.reload()
  await page.locator('.unit-card h3', { hasText: String(thisYear - 1) }).first().waitFor()
  expect(true, `${tag}: the unit's year ${thisYear - 1} chosen is in the URL and a reload keeps it`)
  await page.goBack()
  await page.locator('.unit-card h3', { hasText: unitTitle }).first().waitFor()
  const units = page.locator('.units-table .el-table__row')
  if ((await units.count()) > 1) {
    await units.nth(1).click()
    const second = ((await units.nth(1).locator('td').first().textContent()) ?? '').trim()
    await page.locator('.units-table .current-row', { hasText: second }).waitFor()
    await page.goBack()
    await page.locator('.unit-card h3', { hasText: unitTitle }).first().waitFor()
    expect(((await unitMark.locator('td').first().textContent()) ?? '').trim() !== second, `${tag}: back marks the unit of before again`)
  }
  await context.close()

  // 5. Never to another site: a redirect that is not a console path is ignored.
  for (const evil of ['//evil.example/admin/report', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
    ;({ context, page } = await newPage(browser, base, viewport, `links redirect ${tag}`))
    await page.goto(`${base}/console/login?redirect=${encodeURIComponent(evil)}`)
    await signIn(page, 'buyer-agency')
    await page.waitForURL('**/console/buyer/catalog')
    expect(new URL(page.url()).host === new URL(base).host, `${tag}: redirect=${evil} is refused: the buyer lands on the catalogue`)
    await context.close()
  }

  // 6. The catalogue's search, linked signed out, then another search, back and forward; a
  // buyer's link to a county page lands on the buyer's own first page.
  ;({ context, page } = await newPage(browser, base, viewport, `links catalogue ${tag}`))
  await page.goto(`${base}/console/buyer/catalog?q=${encodeURIComponent('蜂蜜')}&sort=price_asc`)
  await page.waitForURL(atLogin)
  await signIn(page, 'buyer-agency')
  await page.waitForURL((u) => u.pathname === '/console/buyer/catalog' && u.searchParams.get('q') === '蜂蜜')
  const only = (word) => async () => {
    const names = await page.locator('.product h3').allTextContents()
    return names.length > 0 && names.every((n) => n.includes(word))
  }
  await until(only('蜂蜜'), `${tag}: the linked search 蜂蜜 after the login`)
  expect((await page.inputValue('input[name=q]')) === '蜂蜜' && query(page).get('sort') === 'price_asc',
    `${tag}: the linked search and sort are kept through the login (${page.url()})`)
  await page.fill('input[name=q]', '猕猴桃')
  await page.click('form[role=search] button[type=submit]')
  await page.waitForURL((u) => u.searchParams.get('q') === '猕猴桃')
  await until(only('猕猴桃'), `${tag}: search 猕猴桃`)
  await page.goBack()
  await until(only('蜂蜜'), `${tag}: back to the search 蜂蜜`)
  expect((await page.inputValue('input[name=q]')) === '蜂蜜', `${tag}: back restores the search 蜂蜜 and its products`)
  await page.goForward()
  await until(only('猕猴桃'), `${tag}: forward to the search 猕猴桃`)
  expect(true, `${tag}: forward restores the search 猕猴桃`)
  await shot(page, `links-catalog-${tag}`)

  // The catalogue's pages: more than 20 products with the uncertified; a reload shows both pages.
  await page.goto(`${base}/console/buyer/catalog?certifiedOnly=0`)
  await until(async () => (await page.locator('.product').count()) === 20, `${tag}: the first 20 products`)
  // A search typed, not applied: the next page is still of the search shown (the reload says so).
  await page.fill('input[name=q]', '蜂蜜')
  await page.getByRole('button', { name: '加载更多' }).click()
  await page.waitForURL((u) => u.searchParams.get('pages') === '2' && u.searchParams.get('certifiedOnly') === '0')
  const products = await page.locator('.product').count()
  await page.reload()
  await until(async () => (await page.locator('.product').count()) === products, `${tag}: ${products} products after a reload`)
  expect(products > 20, `${tag}: the catalogue's two pages (${products} products) are in the URL and a reload shows them all`)
  await page.fill('input[name=q]', '链接测试品')
  await page.click('form[role=search] button[type=submit]')
  await page.waitForURL((u) => u.searchParams.get('q') === '链接测试品' && !u.searchParams.has('pages'))
  expect(true, `${tag}: a new search shows its first page (pages leaves the URL)`)

  // An order opened is the URL's: a link scrolls to it, marked; another opened is a new entry.
  await page.goto(`${base}/console/buyer/orders`)
  const cards = page.locator('.order')
  await cards.first().waitFor()
  const n = await cards.count()
  const last = await cards.nth(n - 1).getAttribute('data-order')
  await page.goto(`${base}/console/buyer/orders?open=${last}`)
  const opened = page.locator(`.order.is-open[data-order="${last}"] .order-body`)
  await opened.waitFor()
  await until(() => inView(page, page.locator(`[data-order="${last}"]`)), `${tag}: the linked order in view`)
  expect(true, `${tag}: an order linked (the last of ${n}) is opened, marked and scrolled into view`)
  await shot(page, `links-order-${tag}`)
  if (n > 1) {
    const other = await cards.first().getAttribute('data-order')
    await cards.first().locator('.order-head').click()
    await page.waitForURL((u) => u.searchParams.get('open') === other)
    await page.reload()
    await page.locator(`.order.is-open[data-order="${other}"] .order-body`).waitFor()
    await page.goBack()
    await page.waitForURL((u) => u.searchParams.get('open') === last)
    await opened.waitFor()
    expect(true, `${tag}: the order opened by a click is in the URL (a reload keeps it), and back opens the one before`)
  }
  await context.close()
}
