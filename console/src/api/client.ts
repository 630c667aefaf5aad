// The typed API client: generated types (schema.d.ts, from api/openapi.yaml) and openapi-fetch.
// Every request carries the session's token in the Authorization header; a 401 on anything but
// the login ends the session in the console too.
import createClient from 'openapi-fetch'
import type { components, paths } from './schema'
import { expire, session } from '../session'

export type Schemas = components['schemas']

export const api = createClient<paths>({ baseUrl: '' })

api.use({
  onRequest({ request }) {
    if (session.value) request.headers.set('Authorization', `Bearer ${session.value.token}`)
    return request
  },
  onResponse({ request, response }) {
    if (response.status === 401 && session.value && !request.url.endsWith('/api/v1/auth/login')) {
      expire()
    }
    return response
  },
  // A network failure (offline, a request cut by leaving the page) becomes a problem like the
  // server's, so that every page handles it where it handles the API's errors.
  onError() {
    const offline = { status: 503, title: 'Network error', detail: '网络错误，请检查网络后重试。Network error: check the connection and try again.' }
    return new Response(JSON.stringify(offline), { status: 503, headers: { 'Content-Type': 'application/problem+json' } })
  },
})

export function authHeader(): Record<string, string> {
  return session.value ? { Authorization: `Bearer ${session.value.token}` } : {}
}
