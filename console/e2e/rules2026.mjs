// The steps of each role for the features of the 2026 rules (issue 14), imported by run.mjs and run
// at both sizes after that role's journey:
// - buyer: 花垣县教育局 files its reserved share (预留份额; a ratio under the minimum refused next to
//   its field, in Chinese), sees the filing of the school it supervises; the agency opens the
//   impact receipt (带农增收凭证) of a completed order, its public page /r/{id} and its PDF;
// - station: a new batch of kiwifruit needs its 承诺达标合格证 before codes (refused), the form
//   refuses two commitments of three next to the field, the certificate is issued, its PDF and page
//   open, codes follow; a household's delivery into a new batch of rice (收购) is refused without its
//   own certificate, then recorded and paid;
// - county office: a household's income by kind and a dividend recorded for it; the early warning lists the demo's household whose income dropped (phone run),
//   registered as at risk in one step; the reserve page: the department's filing approved, the
//   notice list (通报) with it gone from 未填报, downloaded as XLSX.
// The phone run files and reviews this year, the desktop run last year, so both start clean.
import { readFile } from 'node:fs/promises'
import { until } from './buyer.mjs'

const chinaYear = () => new Date(Date.now() + 8 * 3600_000).getUTCFullYear()
const yearOf = (tag) => (tag === 'phone' ? chinaYear() : chinaYear() - 1)

async function pickYear(page, year) {
  await page.locator('.filters .el-select').first().click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: new RegExp(`^${year}$`) }).click()
}

async function pdfDownload(page, click) {
  const wait = page.waitForEvent('download')
  await click()
  const d = await wait
  const body = await readFile(await d.path())
  return { name: d.suggestedFilename(), blob: d.url().startsWith('blob:'), body }
}

export async function buyerSteps2026({ browser, base, viewport, tag, newPage, login, shot, expect }) {
  const year = yearOf(tag)
  let { context, page } = await newPage(browser, base, viewport, `buyer 2026 ${tag}`)
  await login(page, base, 'buyer-education')
  await page.waitForURL('**/console/buyer/catalog')
  await page.click('a[href="/console/buyer/reserve"]')
  await page.locator('.filing-card .muted').first().waitFor()
  if (year !== chinaYear()) await pickYear(page, year)
  const form = page.locator('.reserve-form')
  await form.waitFor()
  await form.locator('input[name=canteen_total]').fill('300,000')
  await form.locator('input[name=ratio]').fill('5')
  await form.locator('input[name=contact_name]').fill('龙老师')
  await form.locator('input[name=contact_phone]').fill('0743-7221234')
  await form.getByRole('button', { name: '提交填报' }).click()
  const ratioError = form.locator('.el-form-item', { hasText: '预留比例' }).locator('.el-form-item__error')
  await ratioError.waitFor()
  expect(/不能低于.*最低比例 1000 基点/.test((await ratioError.textContent()) ?? ''),
    `${tag}: a ratio of 5 % is refused next to its field, in Chinese (${(await ratioError.textContent())?.trim()})`)
  await shot(page, `buyer-reserve-refused-${tag}`)
  await form.locator('input[name=ratio]').fill('12')
  await form.getByRole('button', { name: '提交填报' }).click()
  await page.locator('.my-filing-status', { hasText: '待审核' }).waitFor()
  const reserved = (await page.locator('.my-reserved').textContent())?.trim()
  expect(reserved === '¥36,000.00', `${tag}: ${year}'s filing is submitted, ¥300,000.00 × 12 % reserved = ${reserved}`)
  if (tag === 'phone') {
    // The department reviews the school's filing (approved by it in the demo).
    const school = page.locator('.filings-table .el-table__row', { hasText: '花垣县民族中学' })
    await school.waitFor()
    expect((await school.textContent()).includes('已审核'), `${tag}: the department sees the school's approved filing among those it reviews`)
  }
  await shot(page, `buyer-reserve-${tag}`)
  await context.close()

  // The agency's completed order (the buyer journey just completed one): its impact receipt.
  ;({ context, page } = await newPage(browser, base, viewport, `buyer impact ${tag}`))
  await login(page, base, 'buyer-agency')
  await page.waitForURL('**/console/buyer/catalog')
  // A completed order with a receipt: the buyer journey's (honey, consignment). The demo's rice
  // order (收购) has none: its receipt does not reconcile (409), see docs/console.md.
  const orderId = await page.evaluate(async () => {
    const s = JSON.parse(sessionStorage.getItem('fupin.session') ?? '{}')
    const h = { Authorization: `Bearer ${s.token}` }
    const { orders } = await (await fetch('/api/v1/orders?limit=50', { headers: h })).json()
    for (const o of orders.filter((x) => x.status === 'completed')) {
      if ((await fetch(`/api/v1/orders/${o.id}/impact-receipt`, { headers: h })).ok) return o.id
    }
    return ''
  })
  await page.goto(`${base}/console/buyer/orders?open=${orderId}`)
  const done = page.locator(`[data-order="${orderId}"]`)
  await done.getByRole('button', { name: '带农增收凭证' }).click()
  const receipt = done.locator('.impact-receipt')
  await receipt.waitFor()
  const income = (await receipt.locator('.impact-income').textContent())?.trim() ?? ''
  const href = (await receipt.locator('.impact-link').getAttribute('href')) ?? ''
  const pageCheck = await page.evaluate(async (u) => {
    const r = await fetch(u)
    return { status: r.status, html: (await r.text()).includes('摘要') }
  }, href)
  expect(/^¥[\d,]+\.\d\d$/.test(income) && /^\/r\/[0-9a-f-]{36}\?digest=[0-9a-f]{64}$/.test(href) && pageCheck.status === 200 && pageCheck.html,
    `${tag}: the receipt shows the households' income ${income} and links its public page ${href.slice(0, 20)}… (${pageCheck.status})`)
  const pdf = await pdfDownload(page, () => receipt.getByRole('button', { name: '下载 PDF' }).click())
  expect(pdf.blob && pdf.body.subarray(0, 5).toString() === '%PDF-', `${tag}: the receipt downloads as ${pdf.name} from a blob URL`)
  await shot(page, `buyer-impact-receipt-${tag}`)
  await context.close()
}

// The station's product ids by name, through the API as the signed-in operator.
async function productIds(page) {
  return page.evaluate(async () => {
    const s = JSON.parse(sessionStorage.getItem('fupin.session') ?? '{}')
    const r = await fetch(`/api/v1/products?station_id=${s.stationId}&limit=200`, { headers: { Authorization: `Bearer ${s.token}` } })
    return Object.fromEntries((await r.json()).products.map((p) => [p.name, p.id]))
  })
}

async function newBatch(page, base, productId, quantity, prefix) {
  await page.goto(`${base}/console/station/batches?product=${productId}`)
  await page.locator('.batch-form').waitFor()
  const batchNo = `${prefix}${Date.now() % 1000000}`
  await page.fill('input[name=batch_no]', batchNo)
  await page.locator('.batch-form .el-input-number input').fill(String(quantity))
  await page.locator('.batch-form').getByRole('button', { name: '新增批次' }).click()
  const batch = page.locator(`[data-batch="${batchNo}"]`)
  await batch.waitFor()
  return batch
}

export async function stationSteps2026({ browser, base, viewport, tag, newPage, login, shot, expect }) {
  const { context, page } = await newPage(browser, base, viewport, `station 2026 ${tag}`)
  await login(page, base, 'station-shibadong')
  await page.waitForURL('**/console/station/orders')
  const ids = await productIds(page)

  // Kiwifruit (水果) needs its certificate before codes.
  const kiwi = await newBatch(page, base, ids['十八洞猕猴桃'], 12, 'E2E-C')
  await kiwi.locator('.cert-needed').waitFor()
  await kiwi.getByRole('button', { name: '生成追溯码' }).click()
  await kiwi.locator('.job .field-error', { hasText: '承诺达标合格证' }).waitFor()
  expect(true, `${tag}: codes of a kiwifruit batch without its 承诺达标合格证 are refused`)
  await kiwi.getByRole('button', { name: '开具合格证' }).click()
  const dialog = page.locator('.el-dialog', { has: page.locator('.cert-form') }).filter({ visible: true })
  await dialog.locator('input[name=cert_contact_name]').fill('石站长')
  await dialog.locator('input[name=cert_contact_phone]').fill('0743-7221234')
  await dialog.locator('.commitments .el-checkbox').nth(0).click()
  await dialog.locator('.commitments .el-checkbox').nth(1).click()
  await dialog.locator('.bases .el-checkbox').nth(1).click()
  await dialog.getByRole('button', { name: '开具合格证' }).click()
  const commitErr = dialog.locator('.el-form-item__error', { hasText: '三项承诺须全部勾选' })
  await commitErr.waitFor()
  expect(true, `${tag}: two commitments of three are refused next to the commitments, in Chinese`)
  await shot(page, `station-certificate-refused-${tag}`)
  await dialog.locator('.commitments .el-checkbox').nth(2).click()
  await dialog.getByRole('button', { name: '开具合格证' }).click()
  await dialog.waitFor({ state: 'hidden' })
  const serial = (await kiwi.locator('.cert-serial').textContent())?.trim() ?? ''
  expect(/^433124-\d{8}-\d{6}$/.test(serial), `${tag}: the batch's certificate is issued (${serial})`)
  const pdf = await pdfDownload(page, () => kiwi.getByRole('button', { name: '合格证 PDF' }).click())
  expect(pdf.blob && pdf.name === `certificate-${serial}.pdf` && pdf.body.subarray(0, 5).toString() === '%PDF-',
    `${tag}: the certificate downloads as ${pdf.name} from a blob URL`)
  const certPage = await page.evaluate(async (u) => (await fetch(u)).status, await kiwi.locator('.cert-link').getAttribute('href'))
  expect(certPage === 200, `${tag}: the certificate's public page opens (${certPage})`)
  await kiwi.getByRole('button', { name: '生成追溯码' }).click()
  await kiwi.locator('.job-done', { hasText: '已生成 12 个追溯码' }).waitFor()
  expect(true, `${tag}: with its certificate, the batch gets its 12 codes`)
  await shot(page, `station-certificate-${tag}`)

  // Rice (收购): a household's delivery, refused without its own certificate, then paid.
  const rice = await newBatch(page, base, ids['十八洞村高山大米'], 10, 'E2E-R')
  await rice.getByRole('button', { name: '交售记录' }).click()
  await rice.getByRole('button', { name: '登记交售' }).click()
  const form = rice.locator('.delivery-form')
  await form.locator('.delivery-household').click()
  await page.locator('.el-select-dropdown__item:visible').first().click()
  await form.locator('.el-input-number input').fill('4')
  await form.locator('input[name=purchase_price]').fill('40')
  await form.getByRole('button', { name: '登记交售' }).click()
  await form.locator('.el-form-item__error', { hasText: /合格证/ }).waitFor()
  expect(true, `${tag}: a delivery without the household's certificate is refused next to the field, in Chinese`)
  await form.locator('input[name=cert_number]').fill(`HH-${tag}-001`)
  await form.getByRole('button', { name: '登记交售' }).dblclick()
  const row = rice.locator('.delivery-row', { hasText: '已付 ¥160.00' })
  await row.waitFor()
  await until(async () => (await rice.locator('.delivered').textContent())?.includes('已交售 4 / 10'), `${tag}: 4 delivered`)
  expect((await rice.locator('.delivery-row').count()) === 1, `${tag}: a double click records one delivery of 4 bags, paid ¥160.00 on delivery`)
  await shot(page, `station-deliveries-${tag}`)
  await context.close()
}

export async function countySteps2026({ browser, base, viewport, tag, newPage, login, shot, expect }) {
  const year = yearOf(tag)
  const { context, page } = await newPage(browser, base, viewport, `county 2026 ${tag}`)
  await login(page, base, 'admin')
  await page.waitForURL('**/console/admin/households')

  // A household's year of income by kind; a dividend (财产性收入) recorded for it, refused first
  // without its payer (the reason next to the field, in Chinese), then recorded once on a double click.
  await page.locator('.households-table .el-table__row').first().click()
  const drawer = page.locator('.household-drawer')
  await drawer.locator('.year-property').waitFor()
  const fen = async () => Number(((await drawer.locator('.year-property').textContent()) ?? '').replace(/[^0-9]/g, ''))
  const before = await fen()
  await drawer.getByRole('button', { name: '登记分红' }).click()
  await drawer.locator('input[name=dividend_amount]').fill('300')
  await drawer.locator('.dividend-form').getByRole('button', { name: '登记分红' }).click()
  await drawer.locator('.el-form-item__error', { hasText: '请填写发放分红的合作社或村集体' }).waitFor()
  await shot(page, `county-dividend-refused-${tag}`)
  await drawer.locator('input[name=payer_name]').fill('十八洞村股份经济合作社')
  await drawer.locator('.dividend-form').getByRole('button', { name: '登记分红' }).dblclick()
  await until(async () => (await fen()) !== before, `${tag}: the property income changes`)
  await page.waitForTimeout(1000) // a second dividend from the double click would show by now
  const after = await fen()
  expect(after === before + 30000, `${tag}: a ¥300.00 dividend is recorded once: property income ${before / 100} → ${after / 100} yuan`)
  await shot(page, `county-dividend-${tag}`)
  await page.keyboard.press('Escape')

  // The early warning: the demo's household whose income dropped, registered in one step (phone);
  // the desktop run finds it among the households at risk.
  await page.click('a[href="/console/admin/monitoring"]')
  await page.locator('.warnings-table').waitFor()
  await until(async () => (await page.locator('.warnings-table .el-table__row').count()) > 0 || (await page.locator('.warnings-table .el-table__empty-text').count()) > 0, `${tag}: the warnings`)
  const warned = page.locator('.warnings-table .el-table__row', { hasText: '收入骤减' }).first()
  if (tag === 'phone') {
    await warned.waitFor()
    await shot(page, `county-warnings-${tag}`)
    await warned.getByRole('button', { name: '纳入监测' }).click()
    const dialog = page.locator('.el-dialog', { has: page.locator('.register-form') }).filter({ visible: true })
    await dialog.getByRole('button', { name: '纳入监测' }).click()
    await dialog.waitFor({ state: 'hidden' })
  }
  const reg = page.locator('.registrations-table .el-table__row', { hasText: '部门大数据预警' }).first()
  await reg.waitFor()
  expect((await reg.textContent()).includes('因收入骤减') && (await page.locator('.warnings-table .el-table__row', { hasText: '收入骤减' }).count()) === 0,
    `${tag}: the warned household is registered (部门大数据预警, 因收入骤减) and leaves the warnings`)
  await shot(page, `county-monitoring-${tag}`)

  // Reserved shares: the department's filing (made by the buyer's step) approved; the notice list.
  await page.click('a[href="/console/admin/reserve"]')
  await page.locator('.filings-table').waitFor()
  if (year !== chinaYear()) await pickYear(page, year)
  const unfiled = page.locator('.notice-unfiled .el-table__row', { hasText: '花垣县教育局' })
  await unfiled.waitFor()
  const dept = page.locator('.filings-table .el-table__row', { hasText: '花垣县教育局' })
  await dept.getByRole('button', { name: '审核通过' }).click()
  await dept.locator('.filing-status', { hasText: '已审核' }).waitFor()
  await unfiled.waitFor({ state: 'detached' })
  expect(true, `${tag}: the department's ${year} filing is approved and leaves the notice list's 未填报`)
  const xlsx = await pdfDownload(page, () => page.getByRole('button', { name: '下载通报 Excel' }).click())
  expect(xlsx.blob && xlsx.name === `reserve-notice-${year}.xlsx` && xlsx.body.subarray(0, 2).toString() === 'PK',
    `${tag}: the notice downloads as ${xlsx.name} from a blob URL`)
  await shot(page, `county-reserve-${tag}`)
  await context.close()
}
