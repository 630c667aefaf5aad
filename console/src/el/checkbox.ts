// ElCheckbox and ElCheckboxGroup with their style sheets, for the pages that show them (see ../elements.ts).
import 'element-plus/es/components/checkbox/style/css'
import 'element-plus/es/components/checkbox-group/style/css'
export { ElCheckbox, ElCheckboxGroup } from 'element-plus'
