import { describe, expect, it } from 'vitest'
import { zh } from './zh'

// The household statuses in the words of the register (../shared/GLOSSARY.md) and of the roster
// import (internal/household/import.go statusNames): poor is 贫困户, lifted is 脱贫户.
describe('household statuses in Chinese', () => {
  it('names each status as the register does', () => {
    expect(zh.hh_poor).toBe('贫困户（建档立卡）')
    expect(zh.hh_lifted).toBe('脱贫户')
    expect(zh.hh_monitored_unstable).toBe('脱贫不稳定户')
    expect(zh.hh_monitored_marginal).toBe('边缘易致贫户')
    expect(zh.hh_monitored_hardship).toBe('突发严重困难户')
  })
})
