// Problem documents (RFC 9457) from the API, shown in the page: the detail on top, each field's
// reason next to its field, in Chinese where the reason is a known one.
import { lang } from './i18n'
import { zhReason } from './reasons'
import { stationReasons } from './problem_station'
import { reasons2026 } from './problem_2026'

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

/** reason returns a field error's reason in the page's language. */
export function reason(r: string): string {
  if (lang.value !== 'zh') return r
  for (const [re, zh] of [...reasons2026, ...stationReasons]) if (re.test(r)) return r.replace(re, zh)
  return zhReason(r)
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
