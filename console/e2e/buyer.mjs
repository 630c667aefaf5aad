// The buyer's journey in the browser (imported by run.mjs, which passes its helpers): filters in
// the catalogue → search → cart → one order → pay → the station ships (through the API: its pages
// are tested in station.mjs) → receipt of that station's shipment → a refund of one item → the
// month's statement on the page and downloaded as CSV and XLSX (blob: URLs) → the year's progress
// with its chart drawn.
import { readFile } from 'node:fs/promises'

// until polls a condition from here (the page's CSP forbids the string evaluation that
// page.waitForFunction needs) for up to 15 s.
export async function until(cond, what) {
  for (let i = 0; i < 75; i++) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out: ${what}`)
}

export async function buyerJourney({ browser, base, viewport, tag, newPage, login, shot, expect }) {
  const { context, page } = await newPage(browser, base, viewport, `buyer journey ${tag}`)
  await login(page, base, 'buyer-agency')
  await page.waitForURL('**/console/buyer/catalog')
  await page.locator('.product').first().waitFor()

  // Filters: fruit, cheapest first.
  await page.getByRole('button', { name: '筛选' }).click()
  await page.locator('.catalog-filters .el-select').first().click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: /^水果$/ }).click()
  await page.locator('.catalog-filters .el-select').nth(2).click() // sort
  await page.locator('.el-select-dropdown__item:visible', { hasText: '价格从低到高' }).click()
  await page.getByRole('button', { name: '应用筛选' }).click()
  await until(async () => {
    const cats = await page.locator('.product .category').allTextContents()
    return cats.length > 0 && cats.every((c) => c.startsWith('水果'))
  }, `${tag}: only fruit after the category filter`)
  const prices = await page.locator('.product .price').allTextContents()
  const fen = prices.map((p) => Number(p.replace(/[^0-9]/g, '')))
  expect(fen.length > 1 && fen.every((v, i) => i === 0 || fen[i - 1] <= v), `${tag}: 水果 by price, low to high (${prices.join(', ')})`)
  await shot(page, `buyer-filters-${tag}`)
  await page.locator('.catalog-filters input[name=max_price]').fill('12.345')
  await page.getByRole('button', { name: '应用筛选' }).click()
  await page.locator('.catalog-filters .el-form-item__error', { hasText: '最多两位小数' }).waitFor()
  expect(true, `${tag}: a price of three decimals is refused next to its field`)
  await page.getByRole('button', { name: '清除筛选' }).click()

  // Search → cart → order → pay.
  await page.fill('input[name=q]', '蜂蜜')
  await page.click('form[role=search] button[type=submit]')
  await until(async () => {
    const names = await page.locator('.product h3').allTextContents()
    return names.length > 0 && names.every((n) => n.includes('蜂蜜'))
  }, `${tag}: search 蜂蜜 finds honey only`)
  await page.locator('.product').first().getByRole('button', { name: '加入购物车' }).click()
  await page.click('.cart-button')
  await page.locator('.el-drawer .cart-line').first().waitFor()
  await page.locator('.el-drawer .el-input-number__increase').first().click() // 2 jars
  await page.locator('.el-drawer').getByRole('button', { name: /提交订单/ }).click()
  await page.waitForURL('**/console/buyer/orders?open=*')
  const id = new URL(page.url()).searchParams.get('open')
  const order = page.locator(`[data-order="${id}"]`)
  await order.getByRole('button', { name: /付款/ }).click()
  await order.locator('.status', { hasText: '已付款' }).waitFor()

  // The station ships its line (API; its own pages are another journey).
  await page.evaluate(async (orderId) => {
    const json = { 'Content-Type': 'application/json' }
    const s = await (await fetch('/api/v1/auth/login', {
      method: 'POST', headers: json, body: JSON.stringify({ username: 'station-shibadong', password: 'fupin-demo-2026' }),
    })).json()
    const h = { ...json, Authorization: `Bearer ${s.token}` }
    const o = await (await fetch(`/api/v1/orders/${orderId}`, { headers: h })).json()
    const lines = []
    for (const l of o.lines) {
      const b = await (await fetch(`/api/v1/products/${l.product_id}/batches`, {
        method: 'POST', headers: h, body: JSON.stringify({ batch_no: `B-${crypto.randomUUID().slice(0, 8)}`, produced_on: '2026-11-20', quantity: 100 }),
      })).json()
      const c = await (await fetch(`/api/v1/batches/${b.id}/codes`, {
        method: 'POST', headers: { ...h, 'Idempotency-Key': crypto.randomUUID() }, body: JSON.stringify({ count: l.quantity }),
      })).json()
      if (!c.codes) throw new Error(`issue ${l.quantity} codes: ${JSON.stringify(c)}`)
      lines.push({ line_id: l.id, codes: c.codes.map((x) => x.code) })
    }
    const r = await fetch(`/api/v1/orders/${orderId}/shipments`, { method: 'POST', headers: h, body: JSON.stringify({ lines }) })
    if (!r.ok) throw new Error(`ship: ${r.status} ${await r.text()}`)
  }, id)

  // The buyer sees the station's shipment shipped, confirms its receipt, refunds one jar.
  await page.reload()
  await order.locator('.shipment-status', { hasText: '已发货' }).waitFor()
  expect(true, `${tag}: the station's shipment shows as shipped`)
  await order.getByRole('button', { name: '确认收货' }).click()
  await order.locator('.status', { hasText: '已完成' }).waitFor()
  await order.locator('.shipment-status', { hasText: '已收货' }).waitFor()
  expect(true, `${tag}: receipt of the shipment confirmed; the order is completed`)
  await order.getByRole('button', { name: '申请退款' }).click()
  const dialog = page.locator('.el-dialog', { hasText: '提交退款' })
  await dialog.locator('.el-input-number__increase').first().click()
  await dialog.locator('input[name=reason]').fill('一瓶破损')
  await dialog.getByRole('button', { name: '提交退款' }).dblclick()
  await order.locator('.refund-row').first().waitFor()
  expect((await order.locator('.refund-row').count()) === 1, `${tag}: a double click on 提交退款 refunded once`)
  await shot(page, `buyer-refund-${tag}`)

  // The month's statement: on the page and downloaded.
  await page.click('a[href="/console/buyer/statement"]')
  await page.locator('.statement-table .el-table__row').first().waitFor()
  await shot(page, `buyer-statement-${tag}`)
  for (const [button, ext] of [['下载 CSV', 'csv'], ['下载 Excel', 'xlsx']]) {
    const wait = page.waitForEvent('download')
    await page.getByRole('button', { name: button }).click()
    const d = await wait
    const body = await readFile(await d.path())
    const ok = ext === 'csv' ? body.toString('utf8').includes('十八洞野生蜂蜜') : body.subarray(0, 2).toString() === 'PK'
    expect(ok && d.url().startsWith('blob:') && d.suggestedFilename().endsWith(`.${ext}`),
      `${tag}: the statement downloads as ${d.suggestedFilename()} (${body.length} bytes) from a blob URL`)
  }

  // The year's progress, with its chart.
  await page.click('a[href="/console/buyer/progress"]')
  await page.locator('.progress-chart[data-ready=true]').waitFor()
  expect(true, `${tag}: the progress chart is drawn (${await page.locator('.progress-bought').textContent()} bought)`)
  await shot(page, `buyer-progress-${tag}`)
  await context.close()
}
