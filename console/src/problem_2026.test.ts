import { describe, expect, it } from 'vitest'
import { reason } from './problem'

// Reasons as the API writes them (internal/reserve, monitoring, certificate, supply; values filled in).
const fromTheAPI: [string, string][] = [
  ['must be at least 1000 bp (the national minimum); give 1000 or more', '不能低于全国最低比例 1000 基点（100 基点 = 1%）'],
  ['must be at least 1500 bp (the minimum for region 62); give 1500 or more', '不能低于本地区（62）最低比例 1500 基点（100 基点 = 1%）'],
  ['must say why the unit has no canteen, 1 to 200 characters', '请说明没有食堂的原因（1 到 200 个字符）'],
  ['must not be before the day it entered monitoring (2026-11-03)', '不能早于纳入监测的日期（2026-11-03）'],
  ['must tick all three commitments (no_banned_inputs, residues_within_limits, truthful): the certificate is that commitment', '三项承诺须全部勾选'],
  ['must list at least one of entrusted_test, self_test, internal_control, self_commitment, each once', '至少勾选一项承诺依据'],
  ['must be a number above 0 with at most 3 decimals, such as 500 or 1250.5', '须为大于 0 的数，最多 3 位小数，如 500 或 1250.5'],
  ['is required: the product is settled by purchase (收购), so the station pays the household this price per item on delivery', '收购商品须填写收购单价'],
  ['the batch declares 100 items and 96 were delivered into it: at most 4 more', '批次共 100 件，已交售 96 件，最多还能交售 4 件'],
  ['must not be after today (2026-12-04, China time), is 2026-12-05', '不能晚于今天（2026-12-04）'],
  ['products of category 水果 (水果) need a 承诺达标合格证 per batch (农业农村部令2025年第4号): issue the batch\'s certificate first (POST /api/v1/batches/0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f/certificates), then its codes', '水果 类商品的每个批次须先开具承诺达标合格证，再生成追溯码'],
  ['must name the cooperative or collective that paid (1 to 200 characters)', '请填写发放分红的合作社或村集体（1 到 200 个字符）'],
  ['must be a day from 2026-11-01 to today (2026-12-05, China time), not 2026-10-31: earlier months are closed (their reports were filed by the 10th of the next month and never change), so date a late dividend 2026-11-01', '须在 2026-11-01 到今天（2026-12-05）之间：之前的月份已结账，补记请记在 2026-11-01'],
  ['give its number and issued_on, or photo_ref', '请填写合格证编号和开具日期，或照片编号'],
]

describe('reasons of the 2026 rules in Chinese', () => {
  it.each(fromTheAPI)('%s', (en, zh) => expect(reason(en)).toBe(zh))
})
