// ElTag with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/tag/style/css'
export { ElTag } from 'element-plus'
