import { describe, expect, it } from 'vitest'
import { zh } from './locales/zh'
import { en } from './locales/en'
import { t } from './i18n'

describe('texts', () => {
  it('has every key in both languages, none empty but the placeholders', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort())
  })
  it('fills placeholders', () => {
    expect(t('appName')).toBe('扶贫集市')
  })
})
