// Chinese labels for the status values the API returns; unknown values are shown as they come.
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

export const LEVEL_LABEL = { 1: '一级', 2: '二级', 3: '三级' };

export function tagOf(map, value) {
  return map[value] || { label: value || '—', type: 'info' };
}

export function optionsOf(map, only) {
  return Object.entries(map)
    .filter(([k]) => !only || only.includes(k))
    .map(([value, { label }]) => ({ value, label }));
}
