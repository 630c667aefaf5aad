// ElCheckbox with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/checkbox/style/css'
export { ElCheckbox } from 'element-plus'
