// Chinese labels for the status values the API returns; unknown values are shown as they come.
export const CAMPAIGN_STATUS = {
  draft: { label: '草稿', type: 'info' },
  scheduled: { label: '未开始', type: 'warning' },
  active: { label: '进行中', type: 'success' },
  ended: { label: '已结束', type: 'info' },
  disabled: { label: '已停用', type: 'danger' },
};

export const ORDER_STATUS = {
  pending: { label: '待支付', type: 'warning' },
  paid: { label: '已支付', type: 'success' },
  closed: { label: '已关闭', type: 'info' },
  refunded: { label: '已退款', type: 'danger' },
};

export const PAY_STATUS = {
  unpaid: { label: '未支付', type: 'info' },
  paying: { label: '支付中', type: 'warning' },
  paid: { label: '已支付', type: 'success' },
  succeeded: { label: '支付成功', type: 'success' },
  success: { label: '支付成功', type: 'success' },
  failed: { label: '支付失败', type: 'danger' },
  closed: { label: '已关闭', type: 'info' },
  refunded: { label: '已退款', type: 'danger' },
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
