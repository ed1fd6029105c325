// 提现 (issue 18): what the withdraw page shows for GET /api/v1/me/withdrawals, and its checks, kept
// free of uni-app so units test them. Money is integer fen throughout; yuan strings are parsed, never floats.
import { formatFen, formatTime } from './format.js';

export const WITHDRAWAL_STATUS = {
  pending: { label: '审核中', tone: 'wait' },
  approved: { label: '待打款', tone: 'wait' },
  transferring: { label: '转账中', tone: 'wait' },
  paid: { label: '已到账', tone: 'done' },
  rejected: { label: '已驳回', tone: 'bad' },
  failed: { label: '提现失败', tone: 'bad' },
};

/** Why a new request is refused (GET's blockedReason, or the POST's problem type of the same name). */
export const BLOCKED_REASON = {
  'negative-balance': '好友退款形成了欠款，可提现余额为负，暂时不能提现；之后的奖励会先抵扣欠款。',
  'open-request': '你有一笔提现正在处理，完成后才能再次申请。',
  'withdrawal-open': '你有一笔提现正在处理，完成后才能再次申请。',
  'openid-required': '请在微信内打开本页提现（奖励转入微信零钱，需要微信授权）。',
  'daily-limit': '今天的提现次数或金额已达上限，请明天再来。',
};

// Why a transfer did not arrive, as the user reads it: the bill expired or was cancelled, or WeChat
// refused it (its fail_reason code is kept in brackets for the organiser's support).
const FAIL_REASONS = {
  EXPIRED: '超时未确认收款，转账已撤销',
  expired: '超时未确认收款，转账已撤销',
  OVERDUE_CLOSE: '超时未确认收款，转账已撤销',
  CANCELLED: '转账已撤销',
};

export function failReasonText(reason) {
  if (!reason) return '转账未成功';
  return FAIL_REASONS[reason] || `微信转账未成功（${reason}）`;
}

/**
 * "12.5" / "12.50" / "12" → 1250; null for anything else (empty, negative, letters, more than 2
 * decimals). The whole input must match, so "1e3" or "0x10" never become money.
 */
export function yuanToFen(input) {
  const s = String(input ?? '').trim();
  const m = /^(\d{1,9})(?:\.(\d{0,2}))?$/.exec(s) || /^()\.(\d{1,2})$/.exec(s);
  if (!m) return null;
  return Number(m[1] || 0) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

/** Keeps what the user types a plausible amount while typing: digits, one dot, two decimals. */
export function cleanAmountInput(input) {
  let s = String(input ?? '').replace(/[^\d.]/g, '');
  const dot = s.indexOf('.');
  if (dot >= 0)
    s =
      s.slice(0, dot + 1) +
      s
        .slice(dot + 1)
        .replace(/\./g, '')
        .slice(0, 2);
  return s.replace(/^0+(?=\d)/, '');
}

/** The limits line under the input: "单笔 ¥1.00 – ¥200.00，每天最多 3 笔、共 ¥500.00". */
export function limitsText(limits = {}) {
  const parts = [];
  if (limits.minFen != null && limits.maxFenPerRequest != null)
    parts.push(`单笔 ¥${formatFen(limits.minFen)} – ¥${formatFen(limits.maxFenPerRequest)}`);
  const daily = [];
  if (limits.dailyCount) daily.push(`最多 ${limits.dailyCount} 笔`);
  if (limits.dailyTotalFen) daily.push(`共 ¥${formatFen(limits.dailyTotalFen)}`);
  if (daily.length) parts.push(`每天${daily.join('、')}`);
  return parts.join('，');
}

/** The amount 全部提现 fills in: all of `available`, capped by the per-request maximum. */
export function allAmountFen(data = {}) {
  const available = Math.max(0, Number(data.availableFen) || 0);
  const max = Number(data.limits?.maxFenPerRequest) || available;
  return Math.min(available, max);
}

/** '' when the amount may be sent, else the message shown under the input. */
export function amountError(input, data = {}) {
  const s = String(input ?? '').trim();
  if (!s) return '请输入提现金额';
  const fen = yuanToFen(s);
  if (fen === null) return '请输入正确的金额，最多两位小数';
  if (fen <= 0) return '提现金额需大于 0';
  const { minFen, maxFenPerRequest } = data.limits || {};
  if (minFen != null && fen < minFen) return `单笔最少提现 ¥${formatFen(minFen)}`;
  if (fen > (Number(data.availableFen) || 0)) return `超出可提现余额 ¥${formatFen(Math.max(0, data.availableFen || 0))}`;
  if (maxFenPerRequest != null && fen > maxFenPerRequest) return `单笔最多提现 ¥${formatFen(maxFenPerRequest)}`;
  return '';
}

/** The reason a request cannot be made now, in words ('' when it can). */
export function blockedMessage(data = {}, env = 'other') {
  const reason = data.blockedReason;
  if (!reason) {
    // the API says canRequest false without a reason when available is below the minimum
    const min = data.limits?.minFen;
    const available = Number(data.availableFen) || 0;
    if (min != null && available >= 0 && available < min) return `可提现余额满 ¥${formatFen(min)} 才能提现`;
    return data.canRequest === false ? '暂时不能提现，请稍后再试。' : '';
  }
  if (reason === 'openid-required' && env === 'wechat') return '请先用微信授权登录，奖励将转入当前微信的零钱。';
  return BLOCKED_REASON[reason] || '暂时不能提现，请稍后再试。';
}

const slug = (type) => String(type || '').replace(/^.*[/#]/, '');

/**
 * A refused POST as `{field, message}`: `field` 'amount' goes under the input, 'blocked' above the
 * button (the page reloads the state then). Unknown problems keep the server's own detail.
 */
export function problemView(err = {}, data = {}, env = 'other') {
  const type = slug(err.type);
  const limits = data.limits || {};
  switch (type) {
    case 'withdrawal-amount': {
      const detail = err.errors && Object.values(err.errors).flat()[0];
      return {
        field: 'amount',
        message: detail || `请输入 ¥${formatFen(limits.minFen ?? 1)} – ¥${formatFen(limits.maxFenPerRequest ?? 0)} 之间的金额`,
      };
    }
    case 'insufficient-available':
      return { field: 'amount', message: `可提现余额不足（当前 ¥${formatFen(Math.max(0, data.availableFen || 0))}），请刷新后重试` };
    case 'daily-limit':
      return { field: 'amount', message: err.detail || BLOCKED_REASON['daily-limit'] };
    case 'withdrawal-open':
    case 'negative-balance':
    case 'openid-required':
      return { field: 'blocked', message: blockedMessage({ canRequest: false, blockedReason: type }, env) };
    default:
      if (err.status === 401 || err.status === 403) return { field: 'session', message: '登录已过期，请重新登录' };
      return { field: 'general', message: err.message || '提交失败，请稍后重试' };
  }
}

/** One request as the list shows it. */
export function withdrawalView(item = {}) {
  const waitingForUser = item.status === 'transferring' && !!item.confirm;
  const status = waitingForUser
    ? { label: '待确认收款', tone: 'act' }
    : WITHDRAWAL_STATUS[item.status] || { label: item.status || '', tone: '' };
  let note = '';
  if (item.status === 'pending') note = '等待活动方审核';
  else if (item.status === 'approved') note = '审核已通过，等待活动方打款';
  else if (waitingForUser) note = '请点击「确认收款」，款项将转入微信零钱';
  else if (item.status === 'transferring') note = '微信转账处理中';
  else if (item.status === 'paid') note = item.paidAt ? `${formatTime(item.paidAt)} 已到账` : '已到账';
  else if (item.status === 'rejected') note = `驳回原因：${item.rejectReason || '未说明'}`;
  else if (item.status === 'failed') note = failReasonText(item.failReason);
  return {
    id: item.id,
    amount: `¥${formatFen(item.amountFen)}`,
    time: formatTime(item.createdAt),
    statusLabel: status.label,
    tone: status.tone,
    note,
    confirm: waitingForUser ? item.confirm : null,
    // the hold went back to available (reject, failed transfer)
    returned: item.status === 'rejected' || item.status === 'failed' ? '金额已退回可提现余额' : '',
  };
}

/** The one line on how the money arrives (到账方式). */
export function payoutLine(mode) {
  return mode === 'wechat' ? '审核通过后转入微信零钱，需在本页点「确认收款」后到账' : '审核通过后由活动方线下打款，一般 1–3 个工作日到账';
}

/** The three figures at the top. */
export function balanceFigures(data = {}) {
  return {
    available: formatFen(data.availableFen ?? 0),
    withdrawing: formatFen(data.withdrawingFen ?? 0),
    paidOut: formatFen(data.paidOutFen ?? 0),
    debt: (data.availableFen ?? 0) < 0,
  };
}

/**
 * Opens WeChat's 确认收款 page for a bill waiting for the user → 'ok' | 'cancel' | 'fail'. "ok" only
 * means the page closed after confirming; the notify or the bill query decides (pay.weixin.qq.com
 * 商家转账 JSAPI 调起用户确认收款).
 */
export function requestMerchantTransfer(bridge, { mchId, appId, package: pkg }) {
  return new Promise((resolve) => {
    try {
      bridge.invoke('requestMerchantTransfer', { mchId, appId, package: pkg }, (res) => {
        const m = String((res && (res.err_msg || res.errMsg)) || '');
        resolve(m.endsWith(':ok') ? 'ok' : m.endsWith(':cancel') ? 'cancel' : 'fail');
      });
    } catch {
      resolve('fail');
    }
  });
}
