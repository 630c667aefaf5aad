// The county office's journey in the browser (imported by run.mjs, which passes its helpers):
// import a roster with one bad row → the row's error in the page, in Chinese → fix the file →
// import it → a registration refused next to its field → the month's report with its charts →
// a unit's target set → stations and certification pages → the ledger's check and money owed → the audit log.
import { until } from './buyer.mjs'

// A resident ID number with its GB 11643 check character (so that only the row we spoil is bad).
function idNumber(seq) {
  const body = `43312419800101${String(seq).padStart(3, '0')}`
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...body].reduce((s, d, i) => s + Number(d) * w[i], 0)
  return body + '10X98765432'[sum % 11]
}

function roster(rows) {
  const head = '户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型'
  return Buffer.from('\uFEFF' + [head, ...rows.map((r) => r.join(','))].join('\r\n') + '\r\n', 'utf8')
}

export async function countyJourney({ browser, base, viewport, tag, newPage, login, shot, expect }) {
  const { context, page } = await newPage(browser, base, viewport, `county journey ${tag}`)
  await login(page, base, 'admin')
  await page.waitForURL('**/console/admin/households')
  await page.locator('.roster-import').waitFor()

  const run = `${Date.now() % 1e6}`.padStart(6, '0')
  // Identity numbers of disjoint ranges for the two runs (phone 0–498, desktop 500–998): the
  // database is the same, and a number the other run registered makes an import an update.
  const seq = (Number(run.slice(-3)) % 497) + (tag === 'desktop' ? 500 : 0)
  const good = [`E2E-${tag}-${run}-1`, '石金花', idNumber(seq), '13800001234', '4', '433124110226', '脱贫户']
  const second = [`E2E-${tag}-${run}-2`, '龙老四', idNumber((seq + 1) % 1000), '', '3', '433124110226', '边缘易致贫户']
  const spoilt = [...second]
  spoilt[2] = second[2].slice(0, 17) + (second[2][17] === '0' ? '1' : '0') // wrong check character

  // One bad row: the file is refused, nothing written, the row's error shown in Chinese.
  await page.setInputFiles('input[name=roster]', { name: 'roster.csv', mimeType: 'text/csv', buffer: roster([good, spoilt]) })
  await page.getByRole('button', { name: '导入', exact: true }).click()
  const errRow = page.locator('.import-errors .el-table__row', { hasText: '校验位不对' })
  await errRow.waitFor()
  const cells = await errRow.locator('td').allTextContents()
  expect(cells[0].trim() === '3' && cells[1].trim() === '身份证号', `${tag}: the bad row is reported as row 3, column 身份证号 (${cells.join(' | ')})`)
  await page.locator('.import-result', { hasText: '没有写入任何数据' }).waitFor()
  await shot(page, `county-import-refused-${tag}`)

  // Fixed and chosen again: both households imported.
  await page.setInputFiles('input[name=roster]', { name: 'roster.csv', mimeType: 'text/csv', buffer: roster([good, second]) })
  await page.getByRole('button', { name: '导入', exact: true }).click()
  const done = page.locator('.import-result', { hasText: '新增 2 户' })
  await done.waitFor()
  expect((await page.locator('.import-progress .el-progress').count()) === 1, `${tag}: the fixed file is imported (${(await done.textContent())?.trim()})`)
  await shot(page, `county-import-done-${tag}`)

  // A registration with a bad phone number: the reason next to the field, in Chinese.
  await page.getByRole('button', { name: '登记农户' }).click()
  const dialog = page.locator('.el-dialog', { hasText: '户编号' })
  await dialog.locator('input[name=archive_no]').fill(`E2E-${tag}-${run}-3`)
  await dialog.locator('input[name=head_name]').fill('麻秀英')
  await dialog.locator('input[name=id_number]').fill(idNumber((seq + 2) % 1000))
  await dialog.locator('input[name=phone]').fill('12345')
  await dialog.locator('input[name=village_code]').fill('433124110226')
  await dialog.getByRole('button', { name: '登记' }).click()
  await dialog.locator('.el-form-item__error', { hasText: '须为 11 位手机号或固话' }).waitFor()
  expect(true, `${tag}: a bad phone number is refused next to its field, in Chinese`)
  await shot(page, `county-register-error-${tag}`)
  await dialog.locator('input[name=phone]').fill('')
  await dialog.getByRole('button', { name: '登记' }).click()
  await dialog.waitFor({ state: 'hidden' })
  expect(true, `${tag}: the household is registered once the phone is left empty`)

  // The month's report, with its charts.
  await page.click('a[href="/console/admin/report"]')
  await page.locator('.stats').waitFor()
  const month = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7)
  await page.fill('input[name=month]', month)
  await page.getByRole('button', { name: '查看' }).click()
  await page.locator('.income-chart[data-ready=true]').waitFor()
  const label = await page.locator('.income-chart').getAttribute('aria-label')
  expect(/十八洞村 ¥/.test(label ?? ''), `${tag}: the income chart of ${month} names the villages (${label?.slice(0, 60)}…)`)
  await until(async () => (await page.locator('.below-chart[data-ready=true]').count()) > 0 || (await page.locator('.el-empty', { hasText: '没有低于线的农户' }).count()) > 0, `${tag}: the below-the-line chart`)
  expect(true, `${tag}: the households below the line are charted by village`)
  await shot(page, `county-report-${tag}`)

  // A unit's target for the year.
  await page.click('a[href="/console/admin/units"]')
  await page.locator('.units-table .el-table__row').first().click()
  await page.locator('.unit-card').waitFor()
  await page.fill('input[name=target]', '50000')
  await page.getByRole('button', { name: '设定目标' }).click()
  await page.locator('.unit-target', { hasText: '¥50,000.00' }).waitFor()
  await page.locator('.unit-chart[data-ready=true]').waitFor()
  expect(true, `${tag}: the unit's target is set to ¥50,000.00 and charted`)
  await shot(page, `county-units-${tag}`)

  await page.click('a[href="/console/admin/stations"]')
  await page.locator('.station-card .el-tag', { hasText: '十八洞村' }).first().waitFor()
  expect(true, `${tag}: stations list their villages by name`)
  await shot(page, `county-stations-${tag}`)
  await page.click('a[href="/console/admin/certification"]')
  await page.locator('.cert-table .el-table__row').first().waitFor()
  await shot(page, `county-certification-${tag}`)

  // The ledger checked on demand, and the money owed back to units (the buyer journey's refund
  // was returned at once by the simulated provider, so nothing is owed).
  await page.click('a[href="/console/admin/checks"]')
  const status = page.locator('.verify-status')
  await status.waitFor()
  expect(/账务一致/.test((await status.textContent()) ?? ''), `${tag}: fupin verify from the console says the ledger is consistent`)
  // The full run over the whole ledger (全量核查: full=true, trusting no checkpoint) says the same.
  await Promise.all([
    page.waitForRequest((r) => r.url().includes('/api/v1/ledger/verify?full=true')),
    page.getByRole('button', { name: '全量核查' }).click(),
  ])
  await page.locator('.verify-run', { hasText: '全量核查' }).waitFor()
  expect(/账务一致/.test((await status.textContent()) ?? ''), `${tag}: the full run (全量核查) from the console says the ledger is consistent`)
  await page.locator('.owed-table').waitFor()
  await shot(page, `county-checks-${tag}`)

  // The audit log shows this journey's registration on top.
  await page.click('a[href="/console/admin/audit"]')
  const top = page.locator('.audit-table .el-table__row').first()
  await top.waitFor()
  const entry = await top.locator('td').allTextContents()
  expect(entry[1].trim() === `E2E-${tag}-${run}-3`.toUpperCase() && entry[2].trim() === '登记',
    `${tag}: the audit log's newest entry is the registration (${entry.slice(0, 4).join(' | ')})`)
  await shot(page, `county-audit-${tag}`)
  await context.close()
}
