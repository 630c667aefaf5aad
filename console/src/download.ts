// Downloads (reports, statements, label PDFs) are fetched with the token in the Authorization
// header and handed to the browser as a blob: URL, so the token never appears in a URL.
import { authHeader } from './api/client'
import type { Problem } from './problem'

export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: authHeader() })
  if (!res.ok) {
    let p: Problem = { status: res.status, detail: res.statusText }
    try {
      p = (await res.json()) as Problem
    } catch {
      /* not a problem document */
    }
    throw p
  }
  const url = URL.createObjectURL(await res.blob())
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 30_000)
}
