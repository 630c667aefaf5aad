// Every Element Plus component a page or component shows is imported by it from src/el/ (see
// elements.ts): none is registered for the whole app, and Vue renders an <el-…> tag that is not
// imported as an unknown element, silently, with no style.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const src = join(__dirname)
const files = ['App.vue', ...['views', 'components'].flatMap((d) => readdirSync(join(src, d)).filter((f) => f.endsWith('.vue')).map((f) => `${d}/${f}`))]
const pascal = (tag: string) => tag.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('')

describe('Element Plus per page', () => {
  it.each(files)('%s imports every <el-…> it shows from src/el/', (file) => {
    const text = readFileSync(join(src, file), 'utf8')
    const shown = new Set([...text.matchAll(/<(el-[a-z-]+)/g)].map((m) => pascal(m[1])))
    const imported = new Set(
      [...text.matchAll(/import \{([^}]*)\} from '\.\.?\/el\/[a-z-]+'/g)].flatMap((m) => m[1].split(',').map((n) => n.trim())),
    )
    expect([...shown].filter((c) => !imported.has(c))).toEqual([])
  })
  it('imports Element Plus only through src/el/', () => {
    for (const file of files) expect(readFileSync(join(src, file), 'utf8'), file).not.toMatch(/from 'element-plus'/)
  })
})
