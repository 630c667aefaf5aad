// The Element Plus components the console uses, registered one by one so that the build keeps
// only these (the whole library would double the first load).
import type { App } from 'vue'
import {
  ElAlert, ElButton, ElCard, ElConfigProvider, ElForm, ElFormItem, ElInput,
} from 'element-plus'

export function elements(app: App) {
  for (const c of [ElAlert, ElButton, ElCard, ElConfigProvider, ElForm, ElFormItem, ElInput]) {
    app.component(c.name!, c)
  }
}
