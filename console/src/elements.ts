// Element Plus, per page. No component is registered for the whole app: each page or component
// imports the ones it shows from src/el/, one file per component (or pair), which brings its style
// sheet too:
//   import { ElButton } from '../el/button'
//   import { ElSelect, ElOption } from '../el/select'
// so a page's chunks (script and style) hold what it shows and nothing else, and no page's first
// load carries another's components (the whole library doubled the first load; its whole style
// sheet, 356 KB, made most of the login page's blocking time under Lighthouse's mobile profile).
// A component new to the console gets its own file in src/el/ the same way; elements.test.ts fails
// on an <el-…> tag whose component its file does not import (Vue would render it as an unknown
// element, silently).
//
// This file only orders the style sheets: Element Plus's base sheet (its colours as custom
// properties) and those of the components on most pages come here, in the first style sheet,
// before style.css, whose rules override theirs at the same specificity. The sheets of the other
// components (select, dialog, drawer, input-number, table, checkbox, progress) come with the pages
// that show them, after style.css: a rule of style.css on those needs a higher specificity
// (`.el-select.status-select`).
import 'element-plus/theme-chalk/base.css'
import './el/alert'
import './el/button'
import './el/card'
import './el/config-provider'
import './el/empty'
import './el/form'
import './el/input'
import './el/message'
import './el/tag'
