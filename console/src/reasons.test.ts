import { describe, expect, it } from 'vitest'
import { zhReason, zhReasons } from './reasons'
import { fieldErrors } from './problem'

// Reasons as the API writes them (copied from its answers and its Go sources, values filled in).
const fromTheAPI: [string, string][] = [
  ['is required', '必填'],
  ['from 2026-11-01 00:10 (China time) on, the household was owed as little as ¥0.00, less than this payout of ¥0.10: a payout pays what was owed when the bank made the transfer; give that time', '从 2026-11-01 00:10（北京时间）起，该户最少只应得 ¥0.00，少于本次付款 ¥0.10：付款只能付转账时已应得的钱，请填写银行实际转账的时间'],
  ['the batch has 8 codes issued or being issued and would have 1 items delivered: codes never exceed what was delivered, and a batch with deliveries is attributed by them; record at least 8 items', '该批次已发放（或正在发放）8 个码，交售后只有 1 件：码数不能超过交售数，有交售记录的批次按交售记录分配收益；请至少登记 8 件'],
  ['is the Excel error #N/A: the formula that fills it found nothing; fix it or type the value', '是 Excel 错误值 #N/A：填它的公式没有找到结果，请修正公式或直接填写'],
  ['was stored by Excel as a number (4.33124197501011E+17), which loses its last digits: format the column as text and type the numbers again', 'Excel 把它存成了数字（4.33124197501011E+17），丢失了末几位：请把该列设为文本格式后重新输入'],
  ['must be one of 贫困户, 脱贫户, 脱贫不稳定户, 边缘易致贫户, 突发严重困难户', '须为以下之一：贫困户, 脱贫户, 脱贫不稳定户, 边缘易致贫户, 突发严重困难户'],
  ['is not UTF-8 text (GBK?): send JSON in UTF-8', '不是 UTF-8 文本（可能是 GBK）：请以 UTF-8 发送'],
  ['holds half of a UTF-16 surrogate pair (\\ud800 to \\udfff alone), which is no character: escape characters outside the BMP as a pair, or send them as UTF-8', '含有不完整的字符（半个 UTF-16 代理对）：请检查输入'],
  ['is in the future: the latest month with figures is 2026-12 (so far)', '是将来的月份：有数据的最近月份是 2026-12（截至目前）'],
  ['must not be null: a PATCH changes only the fields it holds; leave the field out to keep its value', '不能为 null：修改只改动所填字段，不改的字段请不要填写'],
  ['must be from 15 to 210 mm', '须在 15 到 210 毫米之间'],
  ['already pays another order: a provider reference pays one order', '已是另一笔订单的支付流水号：一个流水号只能支付一笔订单'],
  ["brings this product's line to 200000 items, more than the 100000 one line holds: order the rest separately", '同一商品合计 200000 件，超过一行最多的 100000 件：其余请另下一单'],
  ['must be from 1 to 10000000000000 fen (¥100,000,000,000)', '须为 1 到 10000000000000 分（¥100,000,000,000）'],
  ["4 labels of 63.5 mm with their margin and gaps are 268.7 mm wide: more than A4's 210 mm", '4 张 63.5 毫米宽的标签加上边距和间隔共 268.7 毫米，超过 A4 的 210 毫米'],
  ["9 labels of 33.9 mm with their margin and gaps are 318.0 mm tall: more than A4's 297 mm", '9 张 33.9 毫米高的标签加上边距和间隔共 318.0 毫米，超过 A4 的 297 毫米'],
  ["leaves a QR module of 0.20 mm (the code takes at most half the label's width); at least 0.25 mm prints reliably: use wider labels", '二维码每个模块只有 0.20 毫米（二维码最多占标签宽度的一半），至少 0.25 毫米才能可靠打印：请用更宽的标签'],
  ['leaves a QR module of 0.19 mm; at least 0.25 mm prints reliably: use taller labels', '二维码每个模块只有 0.19 毫米，至少 0.25 毫米才能可靠打印：请用更高的标签'],
  ['must be 18 characters (17 digits and a check digit or X)', '须为 18 位（17 位数字加 1 位校验码或 X）'],
  ['the check character is wrong: re-check the number as typed', '校验位不对，请核对号码'],
  ['characters 7 to 14 are not a real birth date (YYYYMMDD)', '第 7 到 14 位不是真实的出生日期（YYYYMMDD）'],
  ['must be an 11-digit mobile number or a landline such as 0743-1234567', '须为 11 位手机号或固话，如 0743-1234567'],
  ['names no current village; import regions or check the code (a merged village\'s households go to its successor)', '没有这个村（或已合并），请核对代码'],
  ['is not a village your station serves', '不是本站服务的村'],
  ['a household with this archive number is already registered', '这个户编号已登记过'],
  ['is already registered under archive number HY-2016-00231', '已登记在户编号 HY-2016-00231 下'],
  ["is not the head registered under this archive number: a household's head and resident ID number never change (register a new household for another person)", '与该户编号登记的户主不符：户主和身份证号登记后不能更改（另一人请另行登记新户）'],
  ["is not the resident ID number registered under this archive number: a household's head and resident ID number never change (register a new household for another person)", '与该户编号登记的身份证号不符：户主和身份证号登记后不能更改（另一人请另行登记新户）'],
  ['repeats the archive number of row 3', '与第 3 行的户编号重复'],
  ['the header has no 身份证号 column', '表头缺少“身份证号”列'],
  ['户编号 appears twice in the header (columns A and H)', '表头中“户编号”出现了两次（第 A 列和第 H 列）'],
  ['is a legacy .xls workbook: save it as XLSX or CSV UTF-8', '这是旧版 .xls 工作簿：请另存为 XLSX 或“CSV UTF-8”'],
  ['is not UTF-8 text (GBK?): save it as CSV UTF-8 or XLSX', '文件不是 UTF-8 编码（可能是 GBK）：请另存为“CSV UTF-8”或 XLSX'],
  ['is UTF-16 text: save it as CSV UTF-8 or XLSX', '文件是 UTF-16 编码：请另存为“CSV UTF-8”或 XLSX'],
  ["433124110225 names no current village; import regions or check the code (a merged village's households go to its successor)", '没有 433124110225 这个村（或已合并到别的村），请核对代码'],
  ['row 2, column 3 holds a line break: a quote (") opened there is not closed, and the rows after it were read into that cell; close or remove the quote', '第 2 行第 3 列有换行：那里的引号（"）没有闭合，其后各行都被读进了这一格；请补上或删去引号'],
  ['holds a line break: names and addresses are one line', '有换行：姓名、地址等须写在一行内'],
  ['part xl/worksheets/sheet1.xml of the workbook is damaged: it ends inside <sheetData> (line 2)', '工作簿已损坏（xl/worksheets/sheet1.xml：it ends inside <sheetData> (line 2)），请用 Excel 或 WPS 重新保存后再导入'],
  ['part docProps/custom.xml of the workbook unzips to more than 16 MiB: re-save it in Excel or WPS, or split it', '工作簿中的 docProps/custom.xml 解压后超过 16 MiB：请用 Excel 或 WPS 重新保存，或拆分后再导入'],
  ["the workbook's parts unzip to more than 320 MiB: re-save it in Excel or WPS, or split it", '工作簿解压后超过 320 MiB：请用 Excel 或 WPS 重新保存，或拆分后再导入'],
  ['2 villages are called 龙门村; give the 12-digit code', '有 2 个村叫 龙门村，请填 12 位村代码'],
  ['no village called 桃花村 in your scope; give the 12-digit code', '范围内没有叫 桃花村 的村，请填 12 位村代码'],
  ['must be a month YYYY-MM or a year YYYY (China Standard Time), such as 2026-03', '须为月份 YYYY-MM 或年份 YYYY（中国标准时间），如 2026-03'],
  ['must be from 2000 to 2100', '须在 2000 到 2100 之间'],
  ['must be in the years 2000 to 2100', '须在 2000 年到 2100 年之间'],
  ['has month 13: months are 01 to 12', '月份 13 不存在：月份为 01 到 12'],
  ['must be 2010 to 2100 (or give rolling_to=YYYY-MM)', '须在 2010 到 2100 之间'],
  ['must not be below min_price', '不能低于最低单价'],
  ['insufficient stock of 十八洞猕猴桃: 9 ordered, 2 left', '十八洞猕猴桃 库存不足：订购 9，剩余 2'],
  ["insufficient stock of 2 of the order's products", '订单中有 2 种商品库存不足'],
  ['must hold exactly 2 codes, one per item of the line (got 1)', '须正好 2 个追溯码（每件一个），现在是 1 个'],
  ['the line has not been received, so there is nothing to refund yet', '这一行还没有收货，暂不能退款'],
  ['is not a line of this order that your station ships', '不是这个订单中由本站发货的商品行'],
  ['repeats a code listed before', '与前面填写的追溯码重复'],
  ['must be a date and time in RFC 3339 with its offset, such as 2026-12-01T09:30:00+08:00', '须为带时区的日期时间（RFC 3339），如 2026-12-01T09:30:00+08:00'],
  ['must list at least one line; leave lines out to refund everything received', '须至少列出一行；要退全部已收货的商品，请不填商品行'],
  ['is listed twice', '重复列出'],
  ['is not an issuance of this batch', '不是这个批次的追溯码生成任务'],
  ['the batch has no codes yet: issue codes first', '这个批次还没有追溯码：请先生成追溯码'],
  ['every code of the batch is void: there is nothing to print', '这个批次的追溯码都已作废，没有可打印的标签'],
  ['every code of the issuance is void: there is nothing to print', '这次生成的追溯码都已作废，没有可打印的标签'],
  ['the issuance is pending: print its labels once it is done', '追溯码还在排队生成，生成完再打印标签'],
  ['the issuance is running: print its labels once it is done', '追溯码正在生成，生成完再打印标签'],
  ['the issuance failed, so it has no codes: issue codes again', '这次生成追溯码失败，没有追溯码：请重新生成'],
  ['a unit with credit code 91350100M000100Y43 is already registered', '信用代码 91350100M000100Y43 的单位已登记'],
  ['must be agency, state_owned, private or social_org', '须为机关事业单位、国有企业、民营企业或社会组织'],
  ['must not be before valid_from', '不能早于有效期起始日'],
  ['433124110225 was merged into 433124110226 on 2026-12-05, before starts_on 2026-12-06: pair the unit with 433124110226', '433124110225 已于 2026-12-05 并入 433124110226（早于开始日期 2026-12-06）：请与 433124110226 结对'],
  ['433124110299 exists from 2026-12-05 (a merge created it), after starts_on 2026-01-01: start the pairing on or after 2026-12-05', '433124110299 自 2026-12-05 起才设立（由合并新设），晚于开始日期 2026-01-01：请从 2026-12-05 或之后开始结对'],
  ['the unit is already paired with this village from 2026-01-01 open-ended (pairing 0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f): end that pairing first, or start this one after it', '该单位在重叠的日期已有这一结对（结对 0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f，自 2026-01-01 起）：请先结束那次结对，或在其结束后开始'],
  ['username "op.123456" is taken', '用户名 op.123456 已被使用'],
  ['must hold a letter: a name is not only marks, digits or symbols', '须含有文字：名字不能只有记号、数字或符号'],
  ['must be a number above 0 and below 10000000000 (10 digits) with at most 3 decimals, such as 500 or 1250.5', '须为大于 0、小于 10000000000（10 位整数）的数，最多 3 位小数，如 500 或 1250.5'],
  ['must be 10 to 72 bytes long', '长度须为 10 到 72 字节'],
  ['is not the account\'s password', '当前密码不正确'],
  ['must not be in the future: 2026-12-07 is after today (2026-12-05, China time); give the day it happened', '不能是将来的日期：2026-12-07 晚于今天（2026-12-05，中国时间）；请填写实际发生的那一天'],
  ['must not be in the future: 2026-12-12 is after today (2026-12-05, China time); record the change on the day it takes effect', '不能是将来的日期：2026-12-12 晚于今天（2026-12-05，中国时间）；请在变更生效当天再登记'],
  ['must not be in the future: 2027-12-05T10:00:00Z is after now (2026-12-05T22:20:00Z); give the time the bank made the transfer', '不能是将来的时间：2027-12-05T10:00:00Z 晚于现在（2026-12-05T22:20:00Z）；请填写银行实际转账的时间'],
  ['holds the control character U+000A (line feed), which a page does not show as typed: remove it', '含有看不见的字符 U+000A (line feed)（如换行或文字方向控制符），页面上显示不出来：请删除'],
  ['holds the format character U+202E (right-to-left override), which a page does not show as typed: remove it', '含有看不见的字符 U+202E (right-to-left override)（如换行或文字方向控制符），页面上显示不出来：请删除'],
  ['has the offset +24:00: offsets run from -23:59 to +23:59, such as +08:00', '时区偏移 +24:00 不存在：偏移须在 -23:59 到 +23:59 之间，如 +08:00'],
  ['433124110299 exists from 2026-12-06 (a merge created it), after 2026-11: ask for a month from 2026-12 on, or for the villages merged into it', '433124110299 自 2026-12-06 起才设立（由合并新设），2026-11 还没有这个村：请查 2026-12 及以后的月份，或查并入它的各村'],
  ['433124110226 was merged into 433124110299 on 2026-12-06: use 433124110299', '433124110226 已于 2026-12-06 并入 433124110299：请改用 433124110299'],
]

describe('zhReason', () => {
  it.each(fromTheAPI)('%s', (en, zh) => {
    expect(zhReason(en)).toBe(zh)
  })
  it('keeps a reason it does not know as the API wrote it', () => {
    expect(zhReason('must be a colour the county likes')).toBe('must be a colour the county likes')
  })
  it('translates whole reasons only (every shape is anchored)', () => {
    for (const [re] of zhReasons) {
      expect(re.source.startsWith('^'), re.source).toBe(true)
      expect(re.source.endsWith('$'), re.source).toBe(true)
    }
    expect(zhReason('is required, and more')).toBe('is required, and more')
  })
  it('puts each field error next to its field, in Chinese', () => {
    const p = {
      status: 422,
      errors: [
        { field: 'id_number', reason: 'the check character is wrong: re-check the number as typed' },
        { field: 'id_number', reason: 'is required' },
        { field: 'members', reason: 'must be from 1 to 30' },
      ],
    }
    expect(fieldErrors(p)).toEqual({ id_number: '校验位不对，请核对号码', members: '须在 1 到 30 之间' })
  })
})
