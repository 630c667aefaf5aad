// ElCard with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/card/style/css'
export { ElCard } from 'element-plus'
