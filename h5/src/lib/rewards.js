// 我的奖励 (issue 17): what the page shows for GET /api/v1/me/rewards, kept free of uni-app so units test it.
import { readJson, writeJson, remove } from './storage.js';
import { formatFen } from './format.js';

const PHONE_KEY = 'dmh.rewardsPhone';
export const PHONE_TTL_MS = 7 * 24 * 3600 * 1000;
const DISPLAY_ZONE = 'Asia/Shanghai';

export const REWARD_STATUS = {
  frozen: { label: '冻结中', tone: 'frozen' },
  available: { label: '可提现', tone: 'available' },
  reversed: { label: '已冲正', tone: 'reversed' },
};
const LEVELS = { 1: '直接邀请', 2: '二级邀请', 3: '三级邀请' };

/** The phone a registrant just paid with, so 我的奖励 can fill it in (this device only, for a week). */
export function rememberPhone(phone, store, now = Date.now()) {
  if (/^1\d{10}$/.test(String(phone || ''))) writeJson(PHONE_KEY, { phone: String(phone), savedAt: now }, store);
}

export function rememberedPhone(store, now = Date.now()) {
  const v = readJson(PHONE_KEY, store);
  if (!v || typeof v.phone !== 'string' || !(now - (v.savedAt || 0) < PHONE_TTL_MS)) {
    remove(PHONE_KEY, store);
    return '';
  }
  return v.phone;
}

let dayFmt;
/** ISO 8601 → "12月13日" (Beijing date). */
export function monthDay(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  dayFmt ||= new Intl.DateTimeFormat('en-CA', { timeZone: DISPLAY_ZONE, month: 'numeric', day: 'numeric' });
  const p = Object.fromEntries(dayFmt.formatToParts(d).map((x) => [x.type, x.value]));
  return `${Number(p.month)}月${Number(p.day)}日`;
}

/** One reward as the list shows it. */
export function rewardView(item) {
  const status = REWARD_STATUS[item.status] || { label: item.status || '', tone: '' };
  const reversed = Number(item.reversedFen) || 0;
  const net = (Number(item.amountFen) || 0) - reversed;
  let note = '';
  if (item.status === 'frozen') note = item.availableAt ? `预计 ${monthDay(item.availableAt)} 可提现` : '冻结中';
  else if (item.status === 'available') note = '已可提现';
  else if (item.status === 'reversed') note = '好友已退款，奖励已冲正';
  if (reversed > 0 && item.status !== 'reversed') note += `（好友部分退款，已冲正 ¥${formatFen(reversed)}）`;
  return {
    id: item.id,
    friend: item.friendName || item.friendPhoneMasked || '好友',
    phone: item.friendName ? item.friendPhoneMasked || '' : '',
    campaign: item.campaignTitle || '',
    level: LEVELS[item.level] || '',
    amount: `¥${formatFen(item.amountFen)}`,
    net: `¥${formatFen(net)}`,
    struck: item.status === 'reversed',
    partlyReversed: reversed > 0 && item.status !== 'reversed',
    statusLabel: status.label,
    tone: status.tone,
    note,
  };
}

/** The three balance cards; `available` may be negative (a debt after a refund). */
export function balanceCards(data = {}) {
  const total = data.totalEarnedFen ?? data.totalRewardFen ?? 0;
  return [
    { key: 'frozen', label: '冻结中', value: formatFen(data.frozenFen ?? 0) },
    { key: 'available', label: '可提现', value: formatFen(data.availableFen ?? 0), debt: (data.availableFen ?? 0) < 0 },
    { key: 'total', label: '累计奖励', value: formatFen(total) },
  ];
}

/** The campaign link that credits `referralCode` (the same shape as the success page's). */
export function inviteLink(base, campaignId, referralCode) {
  if (campaignId == null || campaignId === '') return '';
  const q = new URLSearchParams({ id: String(campaignId) });
  if (referralCode) q.set('u_id', referralCode);
  return `${base}#/pages/campaign/index?${q}`;
}

/** The line beside 提现 on 我的奖励: money on its way and money already paid out, if any. */
export function withdrawTip(data = {}) {
  const parts = [];
  if (data.withdrawingFen > 0) parts.push(`提现中 ¥${formatFen(data.withdrawingFen)}`);
  if (data.paidOutFen > 0) parts.push(`已提现 ¥${formatFen(data.paidOutFen)}`);
  return parts.length ? parts.join(' · ') : '可提现的奖励申请后由活动方审核发放';
}
