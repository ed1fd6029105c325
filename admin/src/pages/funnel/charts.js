// Only the ECharts parts the funnel page draws (keeps the chunk small).
import { use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { LineChart, FunnelChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, LegendComponent } from 'echarts/components';

use([CanvasRenderer, LineChart, FunnelChart, GridComponent, TooltipComponent, LegendComponent]);

export { default as VChart } from 'vue-echarts';
