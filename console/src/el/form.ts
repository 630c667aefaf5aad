// ElForm and ElFormItem with their style sheets, for the pages that show them (see ../elements.ts).
import 'element-plus/es/components/form/style/css'
import 'element-plus/es/components/form-item/style/css'
export { ElForm, ElFormItem } from 'element-plus'
