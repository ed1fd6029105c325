/** Integer fen → "99.00" without floating point. */
export function formatFen(fen) {
  const n = Number(fen) || 0;
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(n));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const DISPLAY_ZONE = 'Asia/Shanghai';
let fmt;
/** ISO 8601 with offset → "2026-12-01 08:00" in the display zone. */
export function formatTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  fmt ||= new Intl.DateTimeFormat('zh-CN', {
    timeZone: DISPLAY_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const p = Object.fromEntries(fmt.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

export const CAMPAIGN_STATES = {
  not_started: { label: '未开始', button: '活动未开始' },
  live: { label: '报名中', button: '立即报名' },
  ended: { label: '已结束', button: '活动已结束' },
  disabled: { label: '已下线', button: '活动已下线' },
};
