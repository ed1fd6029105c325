import { ROLE_LABELS } from '../../session.js';
import { formatMoney } from '../../utils/format.js';

const KEYS = {
  name: '名称',
  username: '账号',
  role: '角色',
  from: '原角色',
  to: '新角色',
  reason: '原因',
  amountFen: '金额',
  outRefundNo: '退款单号',
  code: '报名码',
  method: '方式',
  campaignId: '活动ID',
  requeued: '重新排队',
  stream: '队列',
  type: '消息类型',
  entryId: '新消息ID',
  payStatus: '支付状态',
  status: '订单状态',
  phone: '手机号',
};

const HIDDEN = new Set(['businessKey']);

function value(key, v) {
  if (key === 'amountFen') return formatMoney(v);
  if (key === 'role' || key === 'from' || key === 'to') return ROLE_LABELS[v] || v;
  if (key === 'method') return v === 'scan' ? '扫码' : v === 'typed' ? '输入' : v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** An audit line's detail as "名称：春季训练营；原因：…" (empty values left out). */
export function describeDetail(detail) {
  if (!detail || typeof detail !== 'object') return '';
  return Object.entries(detail)
    .filter(([k, v]) => v !== null && v !== undefined && v !== '' && !HIDDEN.has(k))
    .map(([k, v]) => `${KEYS[k] || k}：${value(k, v)}`)
    .join('；');
}

/** Where a target links to in the admin, or null. */
export function targetRoute(type, id) {
  if (!id) return null;
  if (type === 'campaign') return { name: 'campaign-edit', params: { id } };
  if (type === 'order') return { name: 'orders', query: { orderId: id } };
  if (type === 'participant') return { name: 'rewards', query: { participant: id } };
  return null;
}
