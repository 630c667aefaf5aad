// ElEmpty with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/empty/style/css'
export { ElEmpty } from 'element-plus'
