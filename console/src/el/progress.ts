// ElProgress with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/progress/style/css'
export { ElProgress } from 'element-plus'
