// Problem documents (RFC 9457) from the API, shown in the page: the detail on top, each field's
// reason next to its field, in Chinese where the reason is a known one.
import { lang } from './i18n'
import { stationReasons } from './problem_station'

export interface FieldError {
  field: string
  reason: string
}
export interface Problem {
  status?: number
  title?: string
  detail?: string
  errors?: FieldError[]
  [k: string]: unknown
}

const zhReasons: [RegExp, string][] = [
  ...stationReasons,
  [/^is required$/, '必填'],
  [/^must be 10 to 72 bytes long$/, '长度须为 10 到 72 字节'],
  [/^is not the account's password$/, '当前密码不正确'],
  [/^must differ from the current password$/, '新密码不能与当前密码相同'],
  [/^must be 3 to 64 characters/, '须为 3 到 64 个小写字母、数字或 . _ -'],
  [/^must be at least (\d+)/, '不能小于 $1'],
  [/^exceeds the stock/, '超过库存'],
]

/** reason returns a field error's reason in the page's language. */
export function reason(r: string): string {
  if (lang.value !== 'zh') return r
  for (const [re, zh] of zhReasons) if (re.test(r)) return r.replace(re, zh)
  return r
}

/** fieldErrors maps a problem's errors by field (first reason of each). */
export function fieldErrors(p: Problem | undefined | null): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of p?.errors ?? []) if (!(e.field in out)) out[e.field] = reason(e.reason)
  return out
}

/** message is a one-line summary of a problem for a toast or an alert. */
export function message(p: Problem | undefined | null): string {
  if (!p) return lang.value === 'zh' ? '网络错误，请重试' : 'Network error: try again'
  const fields = (p.errors ?? []).map((e) => `${e.field}: ${reason(e.reason)}`).join('; ')
  return [p.detail, fields].filter(Boolean).join(' — ')
}
