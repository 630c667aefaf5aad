// Chinese first, English on request. The choice is kept in localStorage (not personal data).
import { ref } from 'vue'
import { zh } from './locales/zh'
import { en } from './locales/en'

export type Lang = 'zh' | 'en'
export type Key = keyof typeof zh

const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('fupin.lang') : null
export const lang = ref<Lang>(stored === 'en' ? 'en' : 'zh')

export function setLang(l: Lang) {
  lang.value = l
  localStorage.setItem('fupin.lang', l)
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en'
}

/** t returns the text of key in the current language, with {name} placeholders filled. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  const table: Record<Key, string> = lang.value === 'en' ? en : zh
  return table[key].replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? ''))
}
