import { createApp } from 'vue'
import { elements } from './elements' // before style.css, whose rules override Element Plus's
import './style.css'
import App from './App.vue'
import { router } from './router'
import { lang } from './i18n'

document.documentElement.lang = lang.value === 'zh' ? 'zh-CN' : 'en'
const app = createApp(App)
elements(app)
app.use(router)
app.mount('#app')
