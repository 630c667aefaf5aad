// ElMessage (toasts, called from scripts) with its style sheet (see ../elements.ts).
import 'element-plus/es/components/message/style/css'
export { ElMessage } from 'element-plus'
