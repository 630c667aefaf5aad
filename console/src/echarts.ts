// ECharts, reduced to the charts and parts the console draws. Only Chart.vue imports this, and
// only dynamically, so that it is a chunk of its own loaded with the first chart: the login
// page's first load never carries it (docs/console.md, "First load").
import { use, init } from 'echarts/core'
import { BarChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export { init }
