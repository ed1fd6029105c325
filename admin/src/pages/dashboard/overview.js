import { fenToYuan } from '../../utils/format.js';

/** Totals of a stats overview's series. */
export function totals(overview) {
  const s = overview?.series || [];
  const registrations = s.reduce((a, x) => a + (x.registrations || 0), 0);
  const payments = s.reduce((a, x) => a + (x.payments || 0), 0);
  const rewardsFen = s.reduce((a, x) => a + (x.rewardsFen || 0), 0);
  return { registrations, payments, rewardsFen, conversion: registrations ? payments / registrations : null };
}

export function trendOption(series) {
  const dates = series.map((x) => String(x.date).slice(0, 10));
  return {
    tooltip: { trigger: 'axis', valueFormatter: undefined },
    legend: { data: ['报名', '支付', '奖励（元）'], top: 0 },
    grid: { left: 48, right: 64, top: 40, bottom: 32 },
    xAxis: { type: 'category', data: dates, boundaryGap: true },
    yAxis: [
      { type: 'value', name: '人数', minInterval: 1 },
      { type: 'value', name: '元', splitLine: { show: false } },
    ],
    series: [
      { name: '报名', type: 'line', smooth: true, data: series.map((x) => x.registrations || 0) },
      { name: '支付', type: 'line', smooth: true, data: series.map((x) => x.payments || 0) },
      {
        name: '奖励（元）',
        type: 'bar',
        yAxisIndex: 1,
        barMaxWidth: 18,
        data: series.map((x) => Number(fenToYuan(x.rewardsFen || 0))),
        itemStyle: { opacity: 0.6 },
      },
    ],
  };
}

export function channelOption(channels) {
  const name = (c) => (c.channelId ? String(c.channelId) : '直接访问');
  return {
    tooltip: { trigger: 'axis' },
    legend: { data: ['报名', '支付'], top: 0 },
    grid: { left: 90, right: 24, top: 36, bottom: 24 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: channels.map(name), inverse: true },
    series: [
      { name: '报名', type: 'bar', data: channels.map((c) => c.registrations || 0), barMaxWidth: 14 },
      { name: '支付', type: 'bar', data: channels.map((c) => c.payments || 0), barMaxWidth: 14 },
    ],
  };
}
