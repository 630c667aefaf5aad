// Uploads with progress. fetch() cannot report how much of a request body is sent, so files go
// through XMLHttpRequest, with the token in the Authorization header as everywhere (never in the URL).
import { authHeader } from './api/client'
import type { Problem } from './problem'

export interface UploadResult<T> {
  status: number
  data?: T // the 2xx body
  problem?: Problem // the problem document otherwise
}

/** upload POSTs form as multipart/form-data to path, calling onProgress(0..100) while it is sent. */
export function upload<T>(path: string, form: FormData, onProgress: (percent: number) => void): Promise<UploadResult<T>> {
  return new Promise((resolve) => {
    const x = new XMLHttpRequest()
    x.open('POST', path)
    for (const [k, v] of Object.entries(authHeader())) x.setRequestHeader(k, v)
    x.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100))
    }
    x.onload = () => {
      let body: unknown
      try {
        body = JSON.parse(x.responseText)
      } catch {
        body = { status: x.status, detail: x.statusText }
      }
      if (x.status >= 200 && x.status < 300) resolve({ status: x.status, data: body as T })
      else resolve({ status: x.status, problem: body as Problem })
    }
    x.onerror = () => resolve({ status: 0, problem: { status: 503, detail: '网络错误，请检查网络后重试。Network error: check the connection and try again.' } })
    x.send(form)
  })
}
