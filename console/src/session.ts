// The signed-in user's token, kept in sessionStorage only: see docs/console.md ("Where the console
// keeps its token, and why"). Never put it in a URL.
import { ref } from 'vue'

export type Role = 'admin' | 'station' | 'buyer'

export interface Session {
  token: string
  expiresAt: string
  role: Role
  username: string
  stationId?: string
  unitId?: string
}

const KEY = 'fupin.session'

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY)
    if (!raw) return null
    const s = JSON.parse(raw) as Session
    return new Date(s.expiresAt).getTime() > Date.now() ? s : null
  } catch {
    return null
  }
}

export const session = ref<Session | null>(typeof sessionStorage !== 'undefined' ? load() : null)

export function signIn(s: Session) {
  session.value = s
  sessionStorage.setItem(KEY, JSON.stringify(s))
}

export function signOut() {
  session.value = null
  sessionStorage.removeItem(KEY)
}

let onExpired: () => void = () => {}
/** whenExpired sets what to do when the server says the session has ended (go to the login). It
 * is here, not in the API client, so that the router does not bring the client into the first
 * script (the login page fetches it when signing in). */
export function whenExpired(fn: () => void) {
  onExpired = fn
}

/** expire ends a session that the server ended (a 401): signed out, then whenExpired's action. */
export function expire() {
  signOut()
  onExpired()
}

/** home is the first page of a role. */
export function home(role: Role | undefined): string {
  switch (role) {
    case 'buyer':
      return '/buyer/catalog'
    case 'station':
      return '/station/orders'
    case 'admin':
      return '/admin/households'
    default:
      return '/login'
  }
}
