// ElAlert with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/alert/style/css'
export { ElAlert } from 'element-plus'
