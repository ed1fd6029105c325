// Funnel steps, conversion rates and ECharts options for the funnel page (no Vue here: unit-tested).

export const STEPS = [
  { key: 'views', label: '浏览量' },
  { key: 'visitors', label: '访客' },
  { key: 'registrations', label: '报名' },
  { key: 'paid', label: '支付' },
  { key: 'rewarded', label: '产生奖励' },
];

const EMPTY = { views: 0, visitors: 0, formStarts: 0, registrations: 0, paid: 0, rewarded: 0 };

/** A ratio, or null when the base is 0 (shown as "—"). */
export function rate(part, base) {
  return base > 0 ? part / base : null;
}

/** Each step with its count, the rate from the step before and from the visitors. */
export function steps(counts) {
  const c = { ...EMPTY, ...(counts || {}) };
  return STEPS.map((s, i) => ({
    ...s,
    value: c[s.key],
    // views → visitors is not a conversion (one visitor views many times)
    fromPrevious: i < 2 ? null : rate(c[s.key], c[STEPS[i - 1].key]),
    fromVisitors: i < 2 ? null : rate(c[s.key], c.visitors),
  }));
}

export function funnelOption(counts) {
  const data = steps(counts).map((s) => ({ name: s.label, value: s.value }));
  return {
    color: ['#409eff', '#36a3f7', '#67c23a', '#e6a23c', '#f56c6c'],
    tooltip: { trigger: 'item', formatter: '{b}：{c}' },
    series: [
      {
        type: 'funnel',
        left: '8%',
        width: '84%',
        top: 10,
        bottom: 10,
        minSize: '12%',
        sort: 'none',
        gap: 2,
        label: { show: true, position: 'inside', formatter: '{b} {c}', color: '#fff' },
        data,
      },
    ],
  };
}

export function seriesOption(points) {
  const x = points.map((p) => (p.at.length > 10 ? p.at.slice(11) : p.at.slice(5)));
  const line = (name, key, axis = 0) => ({ name, type: 'line', smooth: true, yAxisIndex: axis, data: points.map((p) => p.counts[key]) });
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 48, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: x, boundaryGap: false },
    yAxis: [
      { type: 'value', name: '访问', minInterval: 1 },
      { type: 'value', name: '订单', minInterval: 1, splitLine: { show: false } },
    ],
    series: [
      line('浏览量', 'views'),
      line('访客', 'visitors'),
      line('报名', 'registrations', 1),
      line('支付', 'paid', 1),
      line('产生奖励', 'rewarded', 1),
    ],
  };
}
