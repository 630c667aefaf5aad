// ElDrawer with its style sheet, for the pages that show it (see ../elements.ts).
import 'element-plus/es/components/drawer/style/css'
export { ElDrawer } from 'element-plus'
