import { describe, it, expect } from 'vitest';
import {
  filtersToQuery,
  phoneFilterError,
  rowActions,
  rejectReasonError,
  payoutErrors,
  payoutBody,
  nowWall,
  approveMessage,
  actionError,
  actorLabel,
  timeline,
  failReasonText,
  approvedMessage,
} from './withdrawals.js';
import { WITHDRAWAL_STATUS } from '../../api/labels.js';

const row = {
  id: 12,
  userId: 7,
  name: '李推荐',
  phoneMasked: '137****0001',
  amountFen: 5000,
  status: 'pending',
  mode: 'manual',
  needsAdmin: false,
  createdAt: '2026-12-06T02:00:00Z',
};

describe('filters', () => {
  it('sends status, a trimmed phone and whole Beijing days, the end exclusive', () => {
    expect(filtersToQuery({ status: 'pending', phone: ' 13712345678 ', range: ['2026-12-01', '2026-12-31'] })).toEqual({
      status: 'pending',
      phone: '13712345678',
      from: '2026-12-01T00:00:00+08:00',
      to: '2027-01-01T00:00:00+08:00',
    });
    expect(filtersToQuery({ status: '', phone: '', range: [] })).toEqual({
      status: undefined,
      phone: undefined,
      from: undefined,
      to: undefined,
    });
  });
  it('asks for the whole phone number (the API matches a whole number)', () => {
    expect(phoneFilterError('')).toBe('');
    expect(phoneFilterError('13712345678')).toBe('');
    expect(phoneFilterError('1371234')).toBe('请输入完整的 11 位手机号');
    expect(phoneFilterError('137-1234-5678')).toBe('请输入完整的 11 位手机号');
  });
});

describe('rowActions', () => {
  it('lets an operator approve and reject a pending request', () => {
    expect(rowActions(row, 'operator')).toEqual({
      approve: { disabled: false, tip: '' },
      reject: { disabled: false, tip: '' },
      payout: null,
    });
  });
  it('leaves a large amount to the admin role: the operator sees why', () => {
    const big = { ...row, needsAdmin: true };
    expect(rowActions(big, 'operator').approve).toEqual({ disabled: true, tip: '大额提现需管理员审批' });
    expect(rowActions(big, 'operator').reject.disabled).toBe(false);
    expect(rowActions(big, 'admin').approve).toEqual({ disabled: false, tip: '' });
  });
  it('offers 登记打款 only for an approved request in manual mode', () => {
    expect(rowActions({ ...row, status: 'approved' }, 'operator').payout).toEqual({ disabled: false, tip: '' });
    expect(rowActions({ ...row, status: 'approved', mode: 'wechat' }, 'admin').payout).toBeNull();
    for (const status of ['transferring', 'paid', 'rejected', 'failed'])
      expect(rowActions({ ...row, status }, 'admin')).toEqual({ approve: null, reject: null, payout: null });
  });
  it('shows no actions to a viewer or staff', () => {
    expect(rowActions(row, 'viewer')).toEqual({ approve: null, reject: null, payout: null });
    expect(rowActions(row, 'staff')).toEqual({ approve: null, reject: null, payout: null });
  });
});

describe('reject and payout forms', () => {
  it('needs a reason of 1..200 characters', () => {
    expect(rejectReasonError('  ')).toBe('请填写驳回原因（参与者会看到）');
    expect(rejectReasonError('x'.repeat(201))).toBe('驳回原因最长 200 个字');
    expect(rejectReasonError('信息不符')).toBe('');
  });
  it('needs a reference of 1..100 characters and a payout time not in the future', () => {
    const now = Date.parse('2026-12-06T04:00:00Z'); // 12:00 in Beijing
    expect(payoutErrors({ reference: '', paidAt: '' }, now)).toEqual({ reference: '请填写打款凭证号（如银行流水号、转账单号）' });
    expect(payoutErrors({ reference: 'x'.repeat(101) }, now).reference).toBe('凭证号最长 100 个字');
    expect(payoutErrors({ reference: 'BANK-1', paidAt: '2026-12-06 11:59:00' }, now)).toEqual({});
    expect(payoutErrors({ reference: 'BANK-1', paidAt: '2026-12-06 12:30:00' }, now)).toEqual({ paidAt: '打款时间不能晚于现在' });
  });
  it('sends the time with the Beijing offset, or leaves it to the server', () => {
    expect(payoutBody({ reference: ' BANK-1 ', paidAt: '2026-12-06 11:59:00' })).toEqual({
      reference: 'BANK-1',
      paidAt: '2026-12-06T11:59:00+08:00',
    });
    expect(payoutBody({ reference: 'BANK-1', paidAt: '' }).paidAt).toBeUndefined();
    expect(nowWall(Date.parse('2026-12-06T16:30:00Z'))).toBe('2026-12-07 00:30:00');
  });
});

describe('wording', () => {
  it('says what happens after approval in each payout mode', () => {
    expect(approveMessage(row)).toBe('通过 李推荐 的提现申请 ¥50.00？通过后请在线下打款，再在此登记打款凭证。');
    expect(approveMessage({ ...row, name: null, mode: 'wechat' })).toContain('137****0001');
    expect(approveMessage({ ...row, mode: 'wechat' })).toContain('确认收款');
  });
  it('turns the API refusals into words and reloads when the row changed meanwhile', () => {
    expect(actionError({ status: 409, type: 'https://dmh.example/problems/withdrawal-state' })).toEqual({
      message: '该申请已被处理，状态已变化，列表已刷新',
      refresh: true,
    });
    expect(actionError({ status: 403 }).message).toContain('大额提现需管理员审批');
    expect(actionError({ status: 409, type: 'https://dmh.local/problems/openid-required' }).message).toContain('未绑定微信');
    expect(actionError({ status: 400, errors: { reference: ['必填'] } }).message).toBe('必填');
    expect(actionError({ status: 500, message: '服务器出错' })).toEqual({ message: '服务器出错', refresh: false });
  });
  it('says what approval did: waiting for the user, a payout to record, or a bill WeChat refused', () => {
    expect(approvedMessage({ status: 'transferring' }).message).toContain('等待用户确认收款');
    expect(approvedMessage({ status: 'approved' }).message).toContain('线下打款');
    expect(approvedMessage({ status: 'failed', failReason: 'ACCOUNT_FROZEN' })).toEqual({
      type: 'warning',
      message: '微信未受理转账（用户微信账户已冻结），金额已退回参与者余额',
    });
  });
  it('names who acted', () => {
    expect(actorLabel('admin')).toBe('admin');
    expect(actorLabel(3)).toBe('管理员 #3');
    expect(actorLabel(null)).toBe('—');
  });
  it('has a Chinese word for every state of the contract', () => {
    expect(Object.keys(WITHDRAWAL_STATUS).sort()).toEqual(['approved', 'failed', 'paid', 'pending', 'rejected', 'transferring']);
  });
});

describe('timeline', () => {
  it('follows a manual payout from request to paid', () => {
    const paid = {
      ...row,
      status: 'paid',
      reviewedBy: 'op1',
      reviewedAt: '2026-12-06T03:00:00Z',
      paidBy: 'op1',
      paidAt: '2026-12-06T05:00:00Z',
      paidReference: 'BANK-1',
    };
    expect(timeline(paid).map((s) => s.title)).toEqual(['提交申请', 'op1 审核通过', 'op1 登记打款']);
    expect(timeline(paid)[2].detail).toBe('凭证号 BANK-1');
    const viaWechat = timeline({ ...paid, mode: 'wechat', outBillNo: 'W12', paidReference: '1330000001' });
    expect(viaWechat.map((s) => s.title)).toEqual(['提交申请', 'op1 审核通过', '发起微信商家转账', '用户确认收款，已到账']);
    expect(viaWechat[3].detail).toBe('微信转账单号 1330000001');
  });
  it('shows a rejection with its reason and a failed transfer', () => {
    const rejected = timeline({
      ...row,
      status: 'rejected',
      reviewedBy: 'admin',
      reviewedAt: '2026-12-06T03:00:00Z',
      rejectReason: '信息不符',
    });
    expect(rejected[1]).toMatchObject({ title: 'admin 驳回', detail: '信息不符' });
    const failed = timeline({
      ...row,
      mode: 'wechat',
      status: 'failed',
      reviewedAt: 'x',
      reviewedBy: 'admin',
      outBillNo: 'W12',
      failReason: 'expired',
    });
    expect(failed.map((s) => s.title)).toEqual(['提交申请', 'admin 审核通过', '发起微信商家转账', '转账失败，金额已退回可提现']);
    expect(failed[3].detail).toBe('用户超时未确认收款，已撤销');
    expect(failReasonText('ACCOUNT_FROZEN')).toBe('用户微信账户已冻结');
    expect(failReasonText('SOME_NEW_CODE')).toBe('SOME_NEW_CODE');
  });
});
