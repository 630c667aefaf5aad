// Chinese first, English on request. The choice is kept in localStorage (not personal data).
// The console's Chinese texts are in the first script; its English ones are a chunk of their own,
// fetched when English is chosen, or before the app mounts when it was chosen before (`ready`):
// most users never switch (docs/console.md, "First load"). Element Plus's English is in the first
// script whatever we do (its locale hook imports it as the default).
import { ref, shallowRef } from 'vue'
import type { Language } from 'element-plus/es/locale'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import enElement from 'element-plus/es/locale/lang/en'
import { zh } from './locales/zh'

export type Lang = 'zh' | 'en'
export type Key = keyof typeof zh
type Texts = Record<Key, string>

const texts: Partial<Record<Lang, { texts: Texts; element: Language }>> = { zh: { texts: zh, element: zhCn } }

export const lang = ref<Lang>('zh')
/** elementLocale is Element Plus's texts (dates, "no data", …) in the current language. */
export const elementLocale = shallowRef<Language>(zhCn)

async function load(l: Lang) {
  if (texts[l]) return
  const { en } = await import('./locales/en')
  texts.en = { texts: en, element: enElement }
}

/** setLang switches the console to l, once its texts are here, and remembers the choice. */
export async function setLang(l: Lang) {
  await load(l)
  lang.value = l
  elementLocale.value = texts[l]!.element
  localStorage.setItem('fupin.lang', l)
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en'
}

const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('fupin.lang') : null
/** ready settles when the remembered language's texts are here (at once for Chinese); the app
 * mounts then. English that fails to load leaves the console in Chinese. */
export const ready: Promise<void> = stored === 'en' ? setLang('en').catch(() => undefined) : Promise.resolve()

/** t returns the text of key in the current language, with {name} placeholders filled. */
export function t(key: Key, params: Record<string, string | number> = {}): string {
  const table = texts[lang.value]?.texts ?? zh
  return table[key].replace(/\{(\w+)\}/g, (_, k: string) => String(params[k] ?? ''))
}
