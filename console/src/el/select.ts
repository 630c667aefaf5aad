// ElSelect and ElOption with their style sheets, for the pages that show them (see ../elements.ts).
import 'element-plus/es/components/select/style/css'
import 'element-plus/es/components/option/style/css'
export { ElOption, ElSelect } from 'element-plus'
