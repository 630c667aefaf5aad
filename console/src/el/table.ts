// ElTable and ElTableColumn with their style sheets, for the pages that show them (see ../elements.ts).
import 'element-plus/es/components/table/style/css'
import 'element-plus/es/components/table-column/style/css'
export { ElTable, ElTableColumn } from 'element-plus'
