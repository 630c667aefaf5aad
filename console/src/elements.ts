// The Element Plus components the console uses, registered one by one so that the build keeps
// only these (the whole library would double the first load), with only their style sheets: the
// whole library's (element-plus/dist/index.css, 356 KB) made most of the login page's blocking
// time under Lighthouse's mobile profile. A component imported by a page itself (ElCheckbox,
// ElProgress) or called from scripts (ElMessage) has its sheet here too. ElTable and
// ElTableColumn, the largest, are imported by the pages that show tables (none of the buyer's
// catalogue nor the login), so they are in those pages' chunks, not in every page's first script.
import type { App } from 'vue'
import 'element-plus/es/components/alert/style/css'
import 'element-plus/es/components/button/style/css'
import 'element-plus/es/components/card/style/css'
import 'element-plus/es/components/checkbox/style/css'
import 'element-plus/es/components/checkbox-group/style/css'
import 'element-plus/es/components/config-provider/style/css'
import 'element-plus/es/components/dialog/style/css'
import 'element-plus/es/components/drawer/style/css'
import 'element-plus/es/components/empty/style/css'
import 'element-plus/es/components/form/style/css'
import 'element-plus/es/components/form-item/style/css'
import 'element-plus/es/components/input/style/css'
import 'element-plus/es/components/input-number/style/css'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/option/style/css'
import 'element-plus/es/components/progress/style/css'
import 'element-plus/es/components/select/style/css'
import 'element-plus/es/components/table/style/css'
import 'element-plus/es/components/table-column/style/css'
import 'element-plus/es/components/tag/style/css'
import {
  ElAlert, ElButton, ElCard, ElConfigProvider, ElDialog, ElDrawer, ElEmpty, ElForm, ElFormItem,
  ElInput, ElInputNumber, ElOption, ElSelect, ElTag,
} from 'element-plus'

export function elements(app: App) {
  for (const c of [ElAlert, ElButton, ElCard, ElConfigProvider, ElDialog, ElDrawer, ElEmpty, ElForm, ElFormItem,
    ElInput, ElInputNumber, ElOption, ElSelect, ElTag]) {
    app.component(c.name!, c)
  }
}
