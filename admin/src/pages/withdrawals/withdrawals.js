// 提现审核 (issue 18): the page's pure parts (filters, who may do what, checks, wording), unit-tested.
import { formatMoney, isoToWall, wallToIso } from '../../utils/format.js';
import { canWrite } from '../../session.js';

export const REJECT_REASON_MAX = 200;
export const REFERENCE_MAX = 100;
/** Reasons an operator picks most; the text stays editable (the participant reads it on the H5 page). */
export const REJECT_PRESETS = ['账户信息有误，请核对后重新申请', '奖励存在异常订单，核实后再处理', '不符合活动提现规则'];

/** "2026-12-31" → "2027-01-01" (calendar arithmetic on the date alone, no time zone involved). */
function nextDay(date) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * The list query for the filter form: the phone trimmed, the date range as whole Beijing days
 * (`to` is exclusive in the API, so it is the start of the day after).
 */
export function filtersToQuery({ status, phone, range } = {}) {
  const q = { status: status || undefined, phone: (phone || '').trim() || undefined, from: undefined, to: undefined };
  if (Array.isArray(range) && range[0] && range[1]) {
    q.from = wallToIso(`${range[0]} 00:00:00`);
    q.to = wallToIso(`${nextDay(range[1])} 00:00:00`);
  }
  return q;
}

/** '' or why the phone filter is not usable: the API looks up a whole 11-digit number. */
export function phoneFilterError(phone) {
  const p = (phone || '').trim();
  if (!p) return '';
  return /^1\d{10}$/.test(p) ? '' : '请输入完整的 11 位手机号';
}

/**
 * What the signed-in role may do with one request: `{approve, reject, payout}`, each null (not shown)
 * or `{disabled, tip}`. Large amounts (`needsAdmin`) are approved by the admin role only; the API
 * answers 403 to anyone else, the button says so first.
 */
export function rowActions(row, role) {
  const none = { approve: null, reject: null, payout: null };
  if (!row || !canWrite('withdrawals', role)) return none;
  if (row.status === 'pending') {
    const blocked = row.needsAdmin && role !== 'admin';
    return {
      approve: { disabled: blocked, tip: blocked ? '大额提现需管理员审批' : '' },
      reject: { disabled: false, tip: '' },
      payout: null,
    };
  }
  if (row.status === 'approved' && (row.mode || 'manual') === 'manual') return { ...none, payout: { disabled: false, tip: '' } };
  return none;
}

export function rejectReasonError(reason) {
  const r = (reason || '').trim();
  if (!r) return '请填写驳回原因（参与者会看到）';
  if (r.length > REJECT_REASON_MAX) return `驳回原因最长 ${REJECT_REASON_MAX} 个字`;
  return '';
}

/** `{reference, paidAt}` errors of the payout form; paidAt is Beijing wall time ("2026-12-06 10:00:00"), optional, not in the future. */
export function payoutErrors({ reference, paidAt }, now = Date.now()) {
  const errors = {};
  const ref = (reference || '').trim();
  if (!ref) errors.reference = '请填写打款凭证号（如银行流水号、转账单号）';
  else if (ref.length > REFERENCE_MAX) errors.reference = `凭证号最长 ${REFERENCE_MAX} 个字`;
  if (paidAt) {
    const iso = wallToIso(paidAt);
    if (!iso) errors.paidAt = '打款时间格式不正确';
    else if (Date.parse(iso) > now + 60_000) errors.paidAt = '打款时间不能晚于现在';
  }
  return errors;
}

/** The payout body: reference trimmed, paidAt as ISO with the +08:00 offset (or left out: the server's now). */
export function payoutBody({ reference, paidAt }) {
  return { reference: (reference || '').trim(), paidAt: paidAt ? wallToIso(paidAt) : undefined };
}

/** Now as the date picker's Beijing wall time. */
export function nowWall(now = Date.now()) {
  return isoToWall(new Date(now).toISOString());
}

/** The confirmation before approving, in the deployment's payout mode. */
export function approveMessage(row) {
  const who = row.name || row.phoneMasked || `参与者 #${row.userId}`;
  const then =
    row.mode === 'wechat' ? '通过后将向其微信零钱发起商家转账，对方在微信内确认收款后到账。' : '通过后请在线下打款，再在此登记打款凭证。';
  return `通过 ${who} 的提现申请 ${formatMoney(row.amountFen)}？${then}`;
}

/** An action the API refused, in words; `refresh` says the list no longer shows the truth. */
export function actionError(e) {
  const t = String(e?.type || '');
  if (t.endsWith('withdrawal-state')) return { message: '该申请已被处理，状态已变化，列表已刷新', refresh: true };
  if (t.endsWith('openid-required')) return { message: '该参与者未绑定微信，无法转账到零钱；可驳回并请其在微信内重新申请', refresh: false };
  if (e?.status === 403) return { message: '当前角色无权执行此操作：大额提现需管理员审批', refresh: false };
  if (e?.status === 404) return { message: '提现申请不存在', refresh: true };
  const fields = e?.errors && Object.values(e.errors).flat();
  return { message: fields?.length ? fields.join('；') : e?.message || '操作失败', refresh: false };
}

/** The toast after 通过, from the answered item: a bill WeChat refused at once comes back `failed`. */
export function approvedMessage(item) {
  if (item?.status === 'failed')
    return { type: 'warning', message: `微信未受理转账（${failReasonText(item.failReason)}），金额已退回参与者余额` };
  if (item?.status === 'transferring') return { type: 'success', message: '已通过，已发起微信转账，等待用户确认收款' };
  return { type: 'success', message: '已通过，请线下打款后登记' };
}

/** Who did it: an admin's name, or "管理员 #3" for a bare id. */
export function actorLabel(actor) {
  if (actor === null || actor === undefined || actor === '') return '—';
  if (actor === 'system') return '系统';
  return /^\d+$/.test(String(actor)) ? `管理员 #${actor}` : String(actor);
}

// The bill's end (expired, cancelled) and the commonest of WeChat's transfer fail_reason codes
// (商家转账 查询转账单 fail_reason); others are shown as WeChat sends them.
const FAIL_REASONS = {
  EXPIRED: '用户超时未确认收款，已撤销',
  expired: '用户超时未确认收款，已撤销',
  OVERDUE_CLOSE: '用户超时未确认收款，已关闭',
  CANCELLED: '转账已撤销',
  FAIL: '微信转账失败',
  ACCOUNT_FROZEN: '用户微信账户已冻结',
  REAL_NAME_CHECK_FAIL: '用户未完成微信实名认证',
  OPENID_INVALID: '用户 OpenID 无效',
  TRANSFER_QUOTA_EXCEED: '超出商户转账额度',
  DAY_RECEIVED_QUOTA_EXCEED: '用户当日收款额度已满',
  DAY_RECEIVED_COUNT_EXCEED: '用户当日收款次数已满',
  TRANSFER_RISK: '微信风控拦截',
};

/** A failed transfer's reason in words (WeChat's own fail reasons are passed through). */
export function failReasonText(reason) {
  if (!reason) return '';
  return FAIL_REASONS[reason] || String(reason);
}

/** The drawer's progress steps, in order; each `{title, time, detail, type}`. */
export function timeline(row) {
  if (!row) return [];
  const steps = [{ title: '提交申请', time: row.createdAt, detail: formatMoney(row.amountFen), type: 'primary' }];
  if (row.status === 'rejected')
    steps.push({ title: `${actorLabel(row.reviewedBy)} 驳回`, time: row.reviewedAt, detail: row.rejectReason || '', type: 'info' });
  else if (row.reviewedAt)
    steps.push({ title: `${actorLabel(row.reviewedBy)} 审核通过`, time: row.reviewedAt, detail: '', type: 'success' });
  if (row.outBillNo) steps.push({ title: '发起微信商家转账', time: row.reviewedAt, detail: `商家单号 ${row.outBillNo}`, type: 'primary' });
  if (row.status === 'paid')
    steps.push({
      title: row.mode === 'wechat' ? '用户确认收款，已到账' : `${actorLabel(row.paidBy)} 登记打款`,
      time: row.paidAt,
      detail: row.paidReference ? `${row.mode === 'wechat' ? '微信转账单号' : '凭证号'} ${row.paidReference}` : '',
      type: 'success',
    });
  if (row.status === 'failed')
    steps.push({ title: '转账失败，金额已退回可提现', time: null, detail: failReasonText(row.failReason), type: 'danger' });
  return steps;
}
