// ElConfigProvider with its style sheet (App.vue; see ../elements.ts).
import 'element-plus/es/components/config-provider/style/css'
export { ElConfigProvider } from 'element-plus'
