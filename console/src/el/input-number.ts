// ElInputNumber with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/input-number/style/css'
export { ElInputNumber } from 'element-plus'
