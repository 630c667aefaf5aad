import { createApp } from 'vue'
import './elements' // Element Plus's base and common style sheets, before style.css, whose rules override theirs
import './style.css'
import App from './App.vue'
import { router } from './router'
import { ready } from './i18n'

document.documentElement.lang = 'zh-CN' // setLang changes it
const app = createApp(App)
app.use(router)
// Mounted once the remembered language's texts are here (at once for Chinese: see i18n.ts).
void ready.then(() => app.mount('#app'))
