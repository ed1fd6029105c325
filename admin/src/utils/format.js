// DECISIONS.md: money is integer fen in JSON, shown as yuan with 2 decimals; times ISO 8601,
// displayed in Asia/Shanghai (a fixed +08:00 offset since 1991, so wall time ↔ ISO is exact).
export const DISPLAY_TZ = 'Asia/Shanghai';
export const DISPLAY_OFFSET = '+08:00';

/** 9900 → "99.00" (integer arithmetic, no floats). */
export function fenToYuan(fen) {
  if (fen === null || fen === undefined || fen === '' || !Number.isFinite(Number(fen))) return '';
  const n = Math.trunc(Number(fen));
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** 9900 → "¥99.00", -350 → "-¥3.50" */
export function formatMoney(fen) {
  const y = fenToYuan(fen);
  if (y === '') return '—';
  const neg = y.startsWith('-');
  const [int, dec] = (neg ? y.slice(1) : y).split('.');
  return `${neg ? '-' : ''}¥${int.replace(/\B(?=(\d{3})+$)/g, ',')}.${dec}`;
}

/** "99.9" / 99.9 → 9990; null for empty or invalid input, more than 2 decimals rejected. */
export function yuanToFen(yuan) {
  if (yuan === null || yuan === undefined) return null;
  const s = typeof yuan === 'number' ? (Number.isFinite(yuan) ? yuan.toFixed(2) : '') : String(yuan).trim();
  const m = /^(-)?(\d+)(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) return null;
  const fen = Number(m[2]) * 100 + Number((m[3] || '').padEnd(2, '0'));
  return m[1] ? -fen : fen;
}

/** Percentage reward on the order price, rounded down to the fen (DECISIONS.md). */
export function percentageRewardFen(priceFen, basisPoints) {
  if (!Number.isInteger(priceFen) || !Number.isInteger(basisPoints)) return 0;
  return Math.floor((priceFen * basisPoints) / 10000);
}

/** The referrer's reward for one paid order under a rule `{type, amountFen | basisPoints}`. */
export function rewardFenFor(rule, priceFen) {
  if (!rule) return 0;
  if (rule.type === 'percentage') return percentageRewardFen(priceFen, rule.basisPoints);
  return Number.isInteger(rule.amountFen) ? rule.amountFen : 0;
}

/** "报名费 ¥99.00 → 推荐人得 ¥9.90" */
export function rewardExample(rule, priceFen, label = '报名费') {
  return `${label || '报名费'} ${formatMoney(priceFen || 0)} → 推荐人得 ${formatMoney(rewardFenFor(rule, priceFen || 0))}`;
}

/** 1500 → "15%", 125 → "1.25%" */
export function basisPointsToPercent(bp) {
  if (!Number.isInteger(bp)) return '';
  return `${fenToYuan(bp).replace(/\.?0+$/, '')}%`;
}

function parts(date) {
  const f = new Intl.DateTimeFormat('en-CA', {
    timeZone: DISPLAY_TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
  const o = {};
  for (const p of f.formatToParts(date)) o[p.type] = p.value;
  return o;
}

/** ISO 8601 → "2026-12-01 08:00:00" wall time in Asia/Shanghai ('' for empty/invalid). */
export function isoToWall(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** "2026-12-01 08:00:00" (Asia/Shanghai wall time) → "2026-12-01T08:00:00+08:00". */
export function wallToIso(wall) {
  if (!wall) return '';
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(?::(\d{2}))?)?$/.exec(String(wall).trim());
  if (!m) return '';
  return `${m[1]}T${m[2] || '00:00'}:${m[3] || '00'}${DISPLAY_OFFSET}`;
}

/** Display a timestamp: "2026-12-01 08:00" (seconds optional). */
export function formatTime(iso, { seconds = false } = {}) {
  const w = isoToWall(iso);
  if (!w) return '—';
  return seconds ? w : w.slice(0, 16);
}

/** A date range ["2026-12-01","2026-12-03"] → {from, to} covering both whole days in Asia/Shanghai. */
export function dateRangeToQuery(range) {
  if (!Array.isArray(range) || range.length !== 2 || !range[0] || !range[1]) return { from: undefined, to: undefined };
  return { from: wallToIso(`${range[0]} 00:00:00`), to: wallToIso(`${range[1]} 23:59:59`) };
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '—';
  let s = Math.max(0, Math.floor(Number(seconds)));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d) return `${d} 天 ${h} 小时`;
  if (h) return `${h} 小时 ${m} 分`;
  if (m) return `${m} 分 ${s} 秒`;
  return `${s} 秒`;
}

export function formatPercent(ratio) {
  if (ratio === null || ratio === undefined || !Number.isFinite(Number(ratio))) return '—';
  const r = Number(ratio);
  // successRate may come as 0..1 or 0..100
  const pct = r <= 1 ? r * 100 : r;
  return `${pct.toFixed(1)}%`;
}
