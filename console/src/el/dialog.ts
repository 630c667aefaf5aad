// ElDialog with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/dialog/style/css'
export { ElDialog } from 'element-plus'
