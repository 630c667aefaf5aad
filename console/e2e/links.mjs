// Deep links and choices in the URL (imported by run.mjs, which passes its helpers):
// a link opened signed out goes to the login and, after it, to where it was going (never to
// another site); a page's choices (the report's region and month, the catalogue's search and
// filters, the households' filters and the household open) are in the URL, so a reload keeps
// them and back/forward brings the earlier ones back; a bad month in a link shows the default;
// a default month is named in the URL all the same (it moves with the date, a link must not).
import { until } from './buyer.mjs'

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

  // A unit's page: the unit chosen is in the URL, and a reload shows it again.
  await page.goto(`${base}/console/admin/units`)
  await page.locator('.units-table .el-table__row').first().click()
  await page.waitForURL((u) => /^[0-9a-f-]{36}$/.test(u.searchParams.get('unit') ?? ''))
  const unitTitle = ((await page.locator('.unit-card h3').first().textContent()) ?? '').trim()
  await page.reload()
  await page.locator('.unit-card h3', { hasText: unitTitle }).first().waitFor()
  expect(unitTitle !== '', `${tag}: a unit's link reopens its page after a reload (${unitTitle})`)
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
  await context.close()
}
