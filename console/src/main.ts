import { createApp } from 'vue'
import 'element-plus/dist/index.css'
import './style.css'
import App from './App.vue'
import { router } from './router'
import { elements } from './elements'
import { lang } from './i18n'

document.documentElement.lang = lang.value === 'zh' ? 'zh-CN' : 'en'
const app = createApp(App)
elements(app)
app.use(router)
app.mount('#app')
