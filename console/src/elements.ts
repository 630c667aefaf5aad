// The Element Plus components the console uses, registered one by one so that the build keeps
// only these (the whole library would double the first load).
import type { App } from 'vue'
import {
  ElAlert, ElButton, ElCard, ElConfigProvider, ElDialog, ElDrawer, ElEmpty, ElForm, ElFormItem,
  ElInput, ElInputNumber, ElOption, ElSelect, ElTable, ElTableColumn, ElTag,
} from 'element-plus'

export function elements(app: App) {
  for (const c of [ElAlert, ElButton, ElCard, ElConfigProvider, ElDialog, ElDrawer, ElEmpty, ElForm, ElFormItem,
    ElInput, ElInputNumber, ElOption, ElSelect, ElTable, ElTableColumn, ElTag]) {
    app.component(c.name!, c)
  }
}
