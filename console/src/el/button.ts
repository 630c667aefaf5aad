// ElButton with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/button/style/css'
export { ElButton } from 'element-plus'
