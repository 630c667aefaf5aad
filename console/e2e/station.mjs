// The station operator's journey in a real browser (run by run.mjs, which passes its helpers):
// list a product (a bad price refused next to its field, in Chinese) with a supplier household
// of its village → a photo (a wrong file refused) → change price and stock → its suppliers edited
// (shares not summing to 100 % refused in the form, in Chinese) → a batch → issue
// codes as a tracked job (the server runs with ISSUE_SYNC_MAX=50, so 60 codes show the progress
// bar) → the label PDF downloaded from a blob: URL → a buyer orders two and pays (API) → the
// station ships them, one code read by the "camera" (a canvas stream showing the label's QR, the
// way a phone's camera would; decoded by jsQR, as Chromium on Linux has no BarcodeDetector), one
// pasted → delist → its households with this month's income. Screenshots: station-*-{phone,desktop}.png.
import { readFileSync } from 'node:fs'
import { until } from './buyer.mjs'

export async function stationJourney(browser, base, viewport, tag, h) {
  const { newPage, login, shot, expect } = h
  const { context, page } = await newPage(browser, base, viewport, `station journey ${tag}`)
  await login(page, base, 'station-shibadong')
  await page.waitForURL('**/console/station/orders')
  await page.click('a[href="/console/station/products"]')
  await page.locator('.item').first().waitFor()

  // A new product, first with a price the API refuses.
  const name = `E2E 腊肉 ${tag} ${Date.now() % 100000}`
  await page.getByRole('button', { name: '新增商品' }).click()
  const form = page.locator('.product-form')
  await form.waitFor()
  await form.locator('input[name=name]').fill(name)
  await form.locator('input[name=category]').fill('腊肉')
  await form.locator('input[name=unit]').fill('斤')
  await form.locator('input[name=spec]').fill('500g/袋')
  await form.locator('input[name=price]').fill('0')
  await form.locator('.supplier-pick').first().click()
  await page.locator('.el-select-dropdown__item:visible').first().click()
  await shot(page, `station-new-product-${tag}`)
  await form.getByRole('button', { name: '保存' }).click()
  const priceError = form.locator('.el-form-item', { hasText: '单价' }).locator('.el-form-item__error')
  await priceError.waitFor()
  expect(/0\.01 元/.test((await priceError.textContent()) ?? ''), `${tag}: a price of 0 is refused next to the price field, in Chinese (${(await priceError.textContent())?.trim()})`)
  await shot(page, `station-new-product-refused-${tag}`)
  await form.locator('input[name=price]').fill('45.50')
  await form.locator('.el-input-number input').first().fill('50')
  await form.getByRole('button', { name: '保存' }).click()
  const card = page.locator('.item', { hasText: name })
  await card.waitFor()
  expect((await card.textContent()).includes('¥45.50'), `${tag}: the product is listed at ¥45.50`)
  const productId = await card.getAttribute('data-product')

  // Its photo: a wrong file refused, then a PNG drawn in the page.
  const file = card.locator('input[type=file]')
  await file.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('不是照片') })
  await card.locator('.photo-error', { hasText: '不是 JPEG 或 PNG' }).waitFor()
  expect(true, `${tag}: a text file as photo is refused with the reason under the product`)
  const png = await page.evaluate(() => {
    const c = document.createElement('canvas')
    c.width = 800
    c.height = 600
    const g = c.getContext('2d')
    const grad = g.createLinearGradient(0, 0, 800, 600)
    grad.addColorStop(0, '#8b2d1a')
    grad.addColorStop(1, '#e8a33d')
    g.fillStyle = grad
    g.fillRect(0, 0, 800, 600)
    g.fillStyle = '#fff'
    g.font = 'bold 120px sans-serif'
    g.fillText('腊肉', 250, 340)
    return c.toDataURL('image/png').split(',')[1]
  })
  await file.setInputFiles({ name: 'larou.png', mimeType: 'image/png', buffer: Buffer.from(png, 'base64') })
  const img = card.locator('img.thumb')
  await img.waitFor()
  // Polled from here: page.waitForFunction polls by evaluating strings in the page, which its CSP
  // forbids (it failed whenever the thumbnail was not there on the first look, on a busy machine).
  await until(() => img.evaluate((i) => i.complete && i.naturalWidth > 0), `${tag}: the photo's thumbnail loads`)
  const size = await img.evaluate((i) => [i.naturalWidth, i.naturalHeight])
  expect(size[0] === 360 && size[1] === 270, `${tag}: the photo is shown from its 360×270 thumbnail (${size.join('×')})`)

  // Price and stock changed.
  await card.getByRole('button', { name: '修改商品' }).click()
  const edit = page.locator('.edit-form')
  await edit.locator('input[name=price]').fill('48')
  await edit.locator('.el-input-number input').fill('80')
  await edit.getByRole('button', { name: '保存' }).click()
  await page.locator('.item', { hasText: name }).locator('.price', { hasText: '¥48.00' }).waitFor()
  expect((await card.textContent()).includes('库存 80'), `${tag}: price ¥48.00 and stock 80 saved`)
  await shot(page, `station-products-listed-${tag}`)

  // Its supplier households edited: a second household at 30 % makes 130 %, refused in the form in
  // Chinese; split evenly, saved, and the product then has two suppliers at 50 % each.
  await card.locator('.edit-suppliers').click()
  const sup = page.locator('.suppliers-form')
  await sup.locator('.supplier').first().waitFor()
  await sup.getByRole('button', { name: '添加农户' }).click()
  await sup.locator('.supplier-pick').nth(1).click()
  await page.locator('.el-select-dropdown__item:visible').first().click()
  await sup.locator('input[name=share]').nth(1).fill('30')
  await sup.getByRole('button', { name: '保存' }).click()
  const sumError = sup.locator('.el-form-item__error', { hasText: '分成合计须为 100%' })
  await sumError.waitFor()
  expect(true, `${tag}: supplier shares of 130 % are refused in the form, in Chinese (${(await sumError.textContent())?.trim()})`)
  await shot(page, `station-suppliers-refused-${tag}`)
  await sup.getByRole('button', { name: '平均分配' }).click()
  await sup.getByRole('button', { name: '保存' }).click()
  await sup.waitFor({ state: 'hidden', timeout: 10_000 }).catch(async (e) => {
    await shot(page, `station-suppliers-failed-${tag}`)
    throw e
  })
  const shares = await page.evaluate(async (id) => {
    const s = JSON.parse(sessionStorage.getItem('fupin.session') ?? '{}')
    const p = await (await fetch(`/api/v1/products/${id}`, { headers: { Authorization: `Bearer ${s.token}` } })).json()
    return p.suppliers.map((x) => x.share_bp)
  }, productId)
  expect(shares.length === 2 && shares[0] === 5000 && shares[1] === 5000, `${tag}: the product's suppliers saved as two households at 50 % each (${shares.join(', ')} bp)`)

  // A batch, 60 codes issued as a job with a progress bar, the labels as PDF.
  await card.locator('.batches-link').click()
  await page.waitForURL(`**/console/station/batches?product=${productId}`)
  // The product chosen is the URL's: another chosen is a new entry, and back shows this one again;
  // the nav's link (no product) shows the first product and names it in the URL.
  const picked = page.locator('.pick .el-select')
  const selected = async () => ((await picked.textContent()) ?? '').trim()
  await until(async () => !['', '请选择'].includes(await selected()) && !/^[0-9a-f-]{36}$/.test(await selected()), `${tag}: the batches' product named`)
  const productName = await selected()
  await picked.click()
  // Not the first product either, which the nav's link shows.
  const options = page.locator('.el-select-dropdown__item:visible')
  await options.first().waitFor()
  const names = (await options.allTextContents()).map((x) => x.trim())
  const choice = names.findLastIndex((x, i) => i > 0 && x !== productName)
  await options.nth(choice).click()
  await page.waitForURL((u) => u.pathname.endsWith('/station/batches') && u.searchParams.get('product') !== productId)
  const other = new URL(page.url()).searchParams.get('product')
  await page.locator('a[href="/console/station/batches"]').click()
  await page.waitForURL((u) => u.search !== `?product=${other}` && /^[0-9a-f-]{36}$/.test(u.searchParams.get('product') ?? ''))
  await page.goBack() // the nav's entry, named in place, then the product chosen, then ours
  await page.waitForURL((u) => u.searchParams.get('product') === other)
  await page.goBack()
  await page.waitForURL((u) => u.searchParams.get('product') === productId)
  await page.locator('.pick .el-select', { hasText: productName }).waitFor()
  expect(true, `${tag}: the batches' product is in the URL: the nav names the first, back shows ${productName} again`)
  const batchNo = `E2E-${tag.toUpperCase().slice(0, 3)}${Date.now() % 1000000}`
  await page.fill('input[name=batch_no]', batchNo)
  await page.locator('.batch-form .el-input-number input').fill('60')
  await page.getByRole('button', { name: '新增批次' }).last().click()
  const batch = page.locator(`[data-batch="${batchNo}"]`)
  await batch.waitFor().catch(async (e) => {
    await shot(page, `station-batch-failed-${tag}`)
    throw e
  })
  await batch.getByRole('button', { name: '生成追溯码' }).click()
  await batch.locator('progress').waitFor()
  await batch.locator('.job-done', { hasText: '已生成 60 个追溯码' }).waitFor({ timeout: 60_000 })
  // The toasts of this form ("saved", "issued") never stack over it: on a phone one at a time, at
  // the bottom of the screen.
  const toasts = await page.evaluate(() => {
    const form = document.querySelector('.batch-form').getBoundingClientRect()
    const shown = [...document.querySelectorAll('.el-message')].map((m) => m.getBoundingClientRect())
    return { count: shown.length, over: shown.filter((m) => m.bottom > form.top && m.top < form.bottom).length }
  })
  expect(tag !== 'phone' || (toasts.count <= 1 && toasts.over === 0),
    `${tag}: toasts do not cover the batch form (${toasts.count} shown, ${toasts.over} over the form)`)
  const bar = await batch.locator('progress').evaluate((p) => [p.value, p.max])
  expect(bar[0] === 60 && bar[1] === 60 && (await batch.locator('.issued-count').textContent()) === '60',
    `${tag}: 60 codes issued through a tracked job, its progress bar full (${bar.join('/')})`)
  await shot(page, `station-batch-issued-${tag}`)
  const dl = page.waitForEvent('download')
  await batch.getByRole('button', { name: '下载标签 PDF' }).click()
  const d = await dl
  const pdf = readFileSync(await d.path())
  expect(d.suggestedFilename() === `labels-${batchNo}.pdf` && d.url().startsWith('blob:') && pdf.subarray(0, 5).toString() === '%PDF-',
    `${tag}: the label sheet downloads as ${d.suggestedFilename()} (${pdf.length} bytes of PDF) from a blob URL`)

  // A buyer orders two and pays, through the API.
  const buyer = await newPage(browser, base, viewport, `station journey buyer ${tag}`)
  await login(buyer.page, base, 'buyer-agency')
  await buyer.page.waitForURL('**/console/buyer/catalog')
  const orderId = await buyer.page.evaluate(async (pid) => {
    const s = JSON.parse(sessionStorage.getItem('fupin.session') ?? '{}')
    const hdr = { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' }
    const o = await (await fetch('/api/v1/orders', { method: 'POST', headers: { ...hdr, 'Idempotency-Key': crypto.randomUUID() },
      body: JSON.stringify({ items: [{ product_id: pid, quantity: 2 }] }) })).json()
    await fetch(`/api/v1/orders/${o.id}/payment`, { method: 'POST', headers: { Authorization: hdr.Authorization, 'Idempotency-Key': crypto.randomUUID() } })
    return o.id
  }, productId)
  await buyer.context.close()

  // The station ships: one label read by the camera, one pasted.
  const codes = await page.evaluate(async (id) => {
    const s = JSON.parse(sessionStorage.getItem('fupin.session') ?? '{}')
    const r = await fetch(`/api/v1/batches/${id}/codes?limit=2`, { headers: { Authorization: `Bearer ${s.token}` } })
    return (await r.json()).codes.map((c) => c.code)
  }, await batchId(page, productId, batchNo))
  await page.click('a[href="/console/station/orders"]')
  await page.locator(`[data-order="${orderId}"] .order-head`).click()
  await page.evaluate(async (code) => {
    // What a phone's rear camera would show: the printed label's QR, a little off centre.
    const img = new Image()
    img.src = `/api/v1/codes/${code}/qr.png?size=360`
    await img.decode()
    const c = document.createElement('canvas')
    c.width = 640
    c.height = 480
    const g = c.getContext('2d')
    const draw = () => {
      g.fillStyle = '#d9d4c7'
      g.fillRect(0, 0, 640, 480)
      g.drawImage(img, 170, 50, 360, 360)
    }
    draw()
    setInterval(draw, 100)
    const stream = c.captureStream(10)
    navigator.mediaDevices.getUserMedia = async () => stream
  }, codes[0])
  const order = page.locator(`[data-order="${orderId}"]`)
  await order.getByRole('button', { name: '用摄像头扫码' }).click()
  await order.locator('video').waitFor()
  await order.locator('.scan-ok', { hasText: codes[0] }).waitFor({ timeout: 30_000 })
  expect(true, `${tag}: the camera read the label ${codes[0]} and the code was checked and added`)
  await shot(page, `station-scan-${tag}`)
  await order.locator('textarea').fill(`${base}/t/${codes[1]}`)
  await order.getByRole('button', { name: '添加' }).click()
  await order.locator('.muted', { hasText: '已添加 2 / 2 个追溯码' }).waitFor()
  await order.getByRole('button', { name: '确认发货' }).click()
  await order.waitFor({ state: 'detached' })
  expect(true, `${tag}: the order shipped with the scanned and the pasted code`)

  // Delisted at the end.
  await page.click('a[href="/console/station/products"]')
  const again = page.locator('.item', { hasText: name })
  await again.getByRole('button', { name: '下架' }).click()
  // Asked first: the box's own 下架 button takes it off sale.
  await page.locator('.el-message-box').getByRole('button', { name: '下架' }).click()
  await again.locator('.el-tag', { hasText: '已下架' }).waitFor()
  expect(true, `${tag}: the product is delisted`)
  await shot(page, `station-products-${tag}`)

  // Its households and their income this month (the demo's sales are in this month).
  const incomeCalls = []
  page.on('request', (r) => {
    if (/\/api\/v1\/(households\/[^/]+\/income|reports\/household-income)/.test(r.url())) incomeCalls.push(new URL(r.url()).pathname)
  })
  await page.click('a[href="/console/station/households"]')
  await page.locator('.income-table .el-table__row').first().waitFor()
  let totals = []
  for (let i = 0; i < 100; i++) { // until every row's income has arrived
    totals = await page.locator('.month-total').allTextContents()
    if (totals.length && !totals.includes('…')) break
    await page.waitForTimeout(300)
  }
  expect(totals.length > 0 && totals.some((x) => x !== '¥0.00'),
    `${tag}: ${totals.length} households of the station, ${totals.filter((x) => x !== '¥0.00').length} with income this month`)
  expect(incomeCalls.length === 1 && incomeCalls[0] === '/api/v1/reports/household-income',
    `${tag}: the households' month income comes in one call (${incomeCalls.join(', ')})`)
  if (tag === 'phone') {
    const wrap = await page.locator('.income-table .el-table__body-wrapper .el-scrollbar__wrap').evaluate((w) => w.scrollWidth - w.clientWidth)
    expect(wrap <= 0, `${tag}: the households table fits the screen (${wrap} px to scroll sideways)`)
  }
  await shot(page, `station-households-${tag}`)
  // The month is named in the URL (a link must not move to the next month); another month is a
  // new entry, kept by a reload, and back shows this month again.
  const thisMonth = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7)
  const [y, m] = thisMonth.split('-').map(Number)
  const lastMonth = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`
  await page.waitForURL((u) => u.searchParams.get('month') === thisMonth)
  await page.fill('input[name=month]', lastMonth)
  await page.getByRole('button', { name: '查看' }).click()
  await page.waitForURL((u) => u.searchParams.get('month') === lastMonth)
  await page.locator('.month-shown', { hasText: `当月收入 ${lastMonth}` }).waitFor()
  await page.reload()
  await page.locator('.month-shown', { hasText: `当月收入 ${lastMonth}` }).waitFor()
  await page.goBack()
  await page.locator('.month-shown', { hasText: `本月收入 ${thisMonth}` }).waitFor()
  expect(true, `${tag}: the households' month is named in the URL (${thisMonth}); ${lastMonth} chosen is kept by a reload, back shows ${thisMonth}`)
  await context.close()
}

async function batchId(page, productId, batchNo) {
  return page.evaluate(async ([pid, no]) => {
    const s = JSON.parse(sessionStorage.getItem('fupin.session') ?? '{}')
    const r = await fetch(`/api/v1/products/${pid}/batches`, { headers: { Authorization: `Bearer ${s.token}` } })
    return (await r.json()).batches.find((b) => b.batch_no === no).id
  }, [productId, batchNo])
}
