// ElInput with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/input/style/css'
export { ElInput } from 'element-plus'
