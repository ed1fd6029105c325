import filterValues from './filterValues.json' with { type: 'json' };
import { formatTime } from '../utils/format.js';

// Chinese labels for the status values the API returns; unknown values are shown as they come.

/** The values each admin filter offers: exactly what the API accepts (tests/Dmh.UnitTests/Ingress/AdminFilterValuesTests.cs). */
export const FILTERS = filterValues;
export const CAMPAIGN_STATUS = {
  draft: { label: '草稿', type: 'info' },
  scheduled: { label: '未开始', type: 'warning' },
  active: { label: '进行中', type: 'success' },
  ended: { label: '已结束', type: 'info' },
  disabled: { label: '已停用', type: 'danger' },
};

// Campaign approval (Campaigns:RequireApproval): CampaignApproval in Dmh.Ingress.
export const APPROVAL_STATUS = {
  none: { label: '未提交审核', type: 'info' },
  pending: { label: '待审核', type: 'warning' },
  approved: { label: '审核通过', type: 'success' },
  rejected: { label: '审核驳回', type: 'danger' },
};

/** "op1 于 2026-12-06 17:38 提交": who made the approval's last move and when (null before any). */
export function approvalNote(approval) {
  if (!approval?.at || !approval.status || approval.status === 'none') return null;
  const verb = { pending: '提交', approved: '通过', rejected: '驳回' }[approval.status] || '';
  return `${approval.by ? `${approval.by} 于 ` : ''}${formatTime(approval.at)} ${verb}`;
}

export const ORDER_STATUS = {
  pending: { label: '待支付', type: 'warning' },
  paid: { label: '已支付', type: 'success' },
  closed: { label: '已关闭', type: 'info' },
  refunded: { label: '已退款', type: 'danger' },
};

// orders.pay_status
export const PAY_STATUS = {
  unpaid: { label: '未支付', type: 'info' },
  paid: { label: '已支付', type: 'success' },
  refunded: { label: '已退款', type: 'danger' },
};

// payments.status: one payment attempt of an order
export const PAYMENT_STATUS = {
  created: { label: '待下单', type: 'info' },
  prepaid: { label: '待支付', type: 'warning' },
  succeeded: { label: '支付成功', type: 'success' },
  closed: { label: '已关闭', type: 'info' },
};

export const SYNC_STATUS = {
  // an order is queued for sync only once paid
  none: { label: '未到同步', type: 'info' },
  pending: { label: '待同步', type: 'warning' },
  synced: { label: '已同步', type: 'success' },
  failed: { label: '同步失败', type: 'danger' },
};

// issue 17: a reward is frozen for the campaign's hold days, then available; a refund may reverse it
export const REWARD_STATUS = {
  frozen: { label: '冻结中', type: 'warning' },
  available: { label: '可提现', type: 'success' },
  reversed: { label: '已冲正', type: 'danger' },
};

export const LEDGER_KIND = {
  credit: { label: '奖励入账', type: 'warning' },
  unfreeze: { label: '解冻', type: 'success' },
  reversal: { label: '退款冲正', type: 'danger' },
  adjustment: { label: '人工调整', type: 'primary' },
  withdraw_hold: { label: '提现冻结', type: 'info' },
  withdraw_release: { label: '提现退回', type: 'info' },
  payout: { label: '提现打款', type: 'info' },
};

export const REFUND_STATUS = {
  processing: { label: '退款中', type: 'warning' },
  pending: { label: '退款中', type: 'warning' },
  success: { label: '已退款', type: 'success' },
  succeeded: { label: '已退款', type: 'success' },
  closed: { label: '已关闭', type: 'info' },
  abnormal: { label: '退款异常', type: 'danger' },
  failed: { label: '退款失败', type: 'danger' },
};

// issue 18: a withdrawal request from review to payout ("open" = pending, approved, transferring)
export const WITHDRAWAL_STATUS = {
  pending: { label: '待审核', type: 'warning' },
  approved: { label: '待打款', type: 'primary' },
  transferring: { label: '转账中', type: 'primary' },
  paid: { label: '已打款', type: 'success' },
  rejected: { label: '已驳回', type: 'info' },
  failed: { label: '转账失败', type: 'danger' },
};

export const PAYOUT_MODE = {
  manual: { label: '线下打款', type: 'info' },
  wechat: { label: '微信零钱', type: 'success' },
};

// WeChat Pay 商家转账 bill states (transfer-bills), shown in the withdrawal drawer
export const TRANSFER_STATE = {
  ACCEPTED: { label: '转账已受理', type: 'info' },
  PROCESSING: { label: '转账处理中', type: 'primary' },
  WAIT_USER_CONFIRM: { label: '待用户确认收款', type: 'warning' },
  TRANSFERING: { label: '转账中', type: 'primary' },
  SUCCESS: { label: '转账成功', type: 'success' },
  FAIL: { label: '转账失败', type: 'danger' },
  CANCELING: { label: '撤销中', type: 'warning' },
  CANCELLED: { label: '已撤销', type: 'info' },
};

export const LEVEL_LABEL = { 1: '一级', 2: '二级', 3: '三级' };

export function tagOf(map, value) {
  return map[value] || { label: value || '—', type: 'info' };
}

export function optionsOf(map, only) {
  return Object.entries(map)
    .filter(([k]) => !only || only.includes(k))
    .map(([value, { label }]) => ({ value, label }));
}

// audit_log.action (Dmh.Ingress/Audit/AuditActions): the filter offers exactly these (a test compares them with the API's list)
export const AUDIT_ACTION = {
  'auth.sign-in': { label: '登录', type: 'info' },
  'auth.sign-in-failed': { label: '登录失败', type: 'danger' },
  'auth.password-change': { label: '修改密码', type: 'warning' },
  'account.create': { label: '新建账号', type: 'primary' },
  'account.disable': { label: '停用账号', type: 'danger' },
  'account.role': { label: '变更角色', type: 'warning' },
  'campaign.create': { label: '新建活动', type: 'primary' },
  'campaign.update': { label: '编辑活动', type: 'primary' },
  'campaign.publish': { label: '发布活动', type: 'success' },
  'campaign.disable': { label: '停用活动', type: 'warning' },
  'campaign.delete': { label: '删除活动', type: 'danger' },
  'campaign.submit': { label: '提交审核', type: 'primary' },
  'campaign.approve': { label: '审核通过', type: 'success' },
  'campaign.reject': { label: '审核驳回', type: 'warning' },
  'order.close': { label: '关闭订单', type: 'warning' },
  'order.refund': { label: '退款', type: 'danger' },
  'check-in.create': { label: '核销', type: 'success' },
  'check-in.undo': { label: '撤销核销', type: 'warning' },
  export: { label: '导出', type: 'info' },
  'sync.retry': { label: '重试同步', type: 'primary' },
  'dead-letter.replay': { label: '重放死信', type: 'primary' },
  'balance.adjust': { label: '调整余额', type: 'danger' },
  'withdrawal.approve': { label: '提现通过', type: 'success' },
  'withdrawal.reject': { label: '提现驳回', type: 'warning' },
  'withdrawal.payout': { label: '登记打款', type: 'primary' },
};

export const AUDIT_TARGET = {
  campaign: '活动',
  order: '订单',
  orders: '订单',
  'admin-user': '账号',
  'check-in': '核销',
  'check-ins': '核销记录',
  rewards: '奖励记录',
  funnel: '转化漏斗',
  participant: '参与者',
  sync: '同步',
  'dead-letter': '死信',
};
