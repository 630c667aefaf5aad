// A page's choices (month, region, filters, search) live in its URL's query string, so that a
// reload, a shared link and back/forward show the same page (querystate.ts keeps them in step).
// Here: reading one value of the query, which anyone can type or paste, so each is checked and a
// bad one is dropped for the page's default; and the one place a URL says where to go after the
// login (safeRedirect). No Vue here: the router, in the first script, uses safeRedirect.

import { fenOf } from './money'

/** A value of a query as vue-router parses it (a key given twice is an array). */
export type QueryValue = string | null | (string | null)[] | undefined

/** Field reads one choice from its text in the URL (undefined: not a valid value) and writes it back. */
export interface Field<T> {
  def: T
  parse: (text: string) => T | undefined
  write?: (v: T) => string
  /** dated: the default depends on the day (last month, this year), so the URL always names the
   * value, the default too: a link saved in December must not open January's report later. */
  dated?: boolean
}

/** first is a query value's text: the first of a repeated key, trimmed; undefined when absent. */
export function first(v: QueryValue): string | undefined {
  const s = Array.isArray(v) ? v[0] : v
  return typeof s === 'string' ? s.trim() : undefined
}

/** read is the value a field takes from a query value: the parsed text, or the default when the
 * text is absent or not valid (a bad month in a link shows the default month, never an error). */
export function read<T>(f: Field<T>, v: QueryValue): T {
  const s = first(v)
  if (s === undefined) return f.def
  return f.parse(s) ?? f.def
}

export function write<T>(f: Field<T>, v: T): string {
  return f.write ? f.write(v) : String(v)
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/

/** A month YYYY-MM of the years 2000–2100 (the API's reports take no other). Dated: its default
 * is a month relative to today on every page that has one. */
export function month(def: string): Field<string> {
  return { def, dated: true, parse: (s) => (MONTH.test(s) && inYears(Number(s.slice(0, 4))) ? s : undefined) }
}

/** A year (a whole number between min and max). Dated, as month. */
export function year(def: number, min = 2000, max = 2100): Field<number> {
  return {
    def,
    dated: true,
    parse: (s) => {
      if (!/^\d{4}$/.test(s)) return undefined
      const y = Number(s)
      return y >= min && y <= max ? y : undefined
    },
  }
}

/** A statement's period: a month YYYY-MM or a year YYYY. Dated, as month. */
export function period(def: string): Field<string> {
  return { def, dated: true, parse: (s) => (MONTH.test(s) || /^\d{4}$/.test(s)) && inYears(Number(s.slice(0, 4))) ? s : undefined }
}

function inYears(y: number) {
  return y >= 2000 && y <= 2100
}

/** A region code of any level (province 2 digits … village 12); empty only when allowed (all). */
export function region(def: string, allowEmpty = false): Field<string> {
  return { def, parse: (s) => (/^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/.test(s) || (allowEmpty && s === '') ? s : undefined) }
}

/** Free text (a search), at most max characters, without control characters. */
export function text(def = '', max = 100): Field<string> {
  // eslint-disable-next-line no-control-regex
  return { def, parse: (s) => (s.length <= max && !/[\u0000-\u001f\u007f]/.test(s) ? s : undefined) }
}

/** One of a fixed list (a sort, a status); empty text is the default. */
export function choice<T extends string>(allowed: readonly T[], def: T): Field<T> {
  return { def, parse: (s) => (allowed as readonly string[]).includes(s) ? (s as T) : undefined }
}

/** How many pages of a "load more" list are shown: 1 (the default) to max. A link asking for more
 * than max shows max, so a typed pages=9999 cannot make the page read the whole register. */
export function pages(max = 20): Field<number> {
  return { def: 1, parse: (s) => (/^[1-9]\d{0,5}$/.test(s) ? Math.min(Number(s), max) : undefined) }
}

/** A yes/no, written 1 or 0. */
export function flag(def: boolean): Field<boolean> {
  return { def, parse: (s) => (s === '1' ? true : s === '0' ? false : undefined), write: (v) => (v ? '1' : '0') }
}

/** An id (a UUID, lower case), or empty for none. */
export function id(): Field<string> {
  return {
    def: '',
    parse: (s) => (s === '' ? '' : /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s) ? s.toLowerCase() : undefined),
  }
}

/** An amount in yuan, or empty for none: what money.ts reads (¥1,234.5, full-width digits), kept
 * as plain text (1234.50), read into fen by the page. */
export function yuanText(): Field<string> {
  return {
    def: '',
    parse: (s) => {
      if (s === '') return ''
      const fen = fenOf(s)
      if (fen === null) return undefined
      return fen % 100 ? `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}` : String(fen / 100)
    },
  }
}

/**
 * safeRedirect is where the login may send the user after signing in, from the `redirect` of its
 * URL: a path of the console's own (as the router names it, under /console/), or null. Anything
 * else is refused, so that a link to the login cannot send a user to another site after signing in
 * (an open redirect): an absolute URL (https://…, javascript:…), a protocol-relative one (//host),
 * a backslash (browsers read /\host as //host), control characters, and the login page itself.
 */
export function safeRedirect(v: QueryValue): string | null {
  const s = Array.isArray(v) ? v[0] : v
  if (typeof s !== 'string' || s.length > 2000) return null
  // eslint-disable-next-line no-control-regex
  if (!s.startsWith('/') || s.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(s)) return null
  // Resolved against an origin of our own it must stay there (no trick changing the host), and its
  // path has no dot segment ("/.." would climb out of /console/ in the browser's address).
  let u: URL
  try {
    u = new URL(s, 'http://console.invalid')
  } catch {
    return null
  }
  const path = s.split(/[?#]/)[0]
  if (u.origin !== 'http://console.invalid' || /(^|\/)(\.|%2e){1,2}(\/|$)/i.test(path)) return null
  if (path === '/login' || path.startsWith('/login/')) return null
  return s
}
