import { describe, it, expect } from 'vitest';
import {
  yuanToFen,
  cleanAmountInput,
  limitsText,
  allAmountFen,
  amountError,
  blockedMessage,
  problemView,
  withdrawalView,
  payoutLine,
  balanceFigures,
  requestMerchantTransfer,
} from '../../src/lib/withdrawals.js';
import { withdrawTip } from '../../src/lib/rewards.js';

const limits = { minFen: 100, maxFenPerRequest: 20000, dailyCount: 3, dailyTotalFen: 50000 };
const state = {
  mode: 'manual',
  availableFen: 12345,
  withdrawingFen: 0,
  paidOutFen: 0,
  canRequest: true,
  blockedReason: null,
  limits,
  items: [],
};

describe('yuanToFen', () => {
  it('reads yuan with up to two decimals as whole fen, without floating point', () => {
    expect(yuanToFen('12')).toBe(1200);
    expect(yuanToFen('12.5')).toBe(1250);
    expect(yuanToFen('0.07')).toBe(7);
    expect(yuanToFen('.5')).toBe(50);
    expect(yuanToFen(' 100.10 ')).toBe(10010);
    expect(yuanToFen('1.')).toBe(100);
    // 0.29 * 100 is 28.999999999999996 in floating point
    expect(yuanToFen('0.29')).toBe(29);
  });
  it('refuses anything else', () => {
    for (const bad of ['', '-1', '1.234', 'abc', '1e3', '0x10', '1,000', '１２', null, undefined]) expect(yuanToFen(bad)).toBeNull();
  });
});

describe('cleanAmountInput', () => {
  it('keeps digits, one dot and two decimals as the user types', () => {
    expect(cleanAmountInput('12.345')).toBe('12.34');
    expect(cleanAmountInput('1.2.3')).toBe('1.23');
    expect(cleanAmountInput('¥ 8a')).toBe('8');
    expect(cleanAmountInput('007')).toBe('7');
    expect(cleanAmountInput('0.5')).toBe('0.5');
  });
});

describe('limits and 全部提现', () => {
  it('states the limits in one line', () => {
    expect(limitsText(limits)).toBe('单笔 ¥1.00 – ¥200.00，每天最多 3 笔、共 ¥500.00');
    expect(limitsText({})).toBe('');
  });
  it('fills in all of available, capped by the per-request maximum, never a negative amount', () => {
    expect(allAmountFen(state)).toBe(12345);
    expect(allAmountFen({ ...state, availableFen: 99999 })).toBe(20000);
    expect(allAmountFen({ ...state, availableFen: -300 })).toBe(0);
  });
});

describe('amountError', () => {
  it('accepts an amount within the limits and the balance', () => {
    expect(amountError('100', state)).toBe('');
    expect(amountError('1', state)).toBe('');
  });
  it('names each problem in words', () => {
    expect(amountError('', state)).toBe('请输入提现金额');
    expect(amountError('1.234', state)).toBe('请输入正确的金额，最多两位小数');
    expect(amountError('0', state)).toBe('提现金额需大于 0');
    expect(amountError('0.5', state)).toBe('单笔最少提现 ¥1.00');
    expect(amountError('124', state)).toBe('超出可提现余额 ¥123.45');
    expect(amountError('201', { ...state, availableFen: 99999 })).toBe('单笔最多提现 ¥200.00');
  });
});

describe('blockedMessage', () => {
  it('is empty while a request can be made', () => {
    expect(blockedMessage(state)).toBe('');
  });
  it('explains each reason the server gives', () => {
    const b = (blockedReason, env) => blockedMessage({ ...state, canRequest: false, blockedReason }, env);
    expect(b('negative-balance')).toContain('可提现余额为负');
    expect(b('open-request')).toContain('正在处理');
    expect(b('daily-limit')).toContain('已达上限');
    expect(b('openid-required')).toBe('请在微信内打开本页提现（奖励转入微信零钱，需要微信授权）。');
    expect(b('openid-required', 'wechat')).toContain('微信授权登录');
    expect(b('something-new')).toBe('暂时不能提现，请稍后再试。');
  });
  it('says when available is below the minimum', () => {
    expect(blockedMessage({ ...state, availableFen: 50 })).toBe('可提现余额满 ¥1.00 才能提现');
    expect(blockedMessage({ ...state, availableFen: 0, canRequest: false })).toBe('可提现余额满 ¥1.00 才能提现');
  });
});

describe('problemView', () => {
  const problem = (slug, extra = {}) => ({ status: 409, type: `https://dmh.example/problems/${slug}`, message: 'x', ...extra });
  it('puts amount problems under the input', () => {
    expect(problemView(problem('withdrawal-amount', { status: 422, errors: { amountFen: ['单笔最少 ¥1.00'] } }), state)).toEqual({
      field: 'amount',
      message: '单笔最少 ¥1.00',
    });
    expect(problemView(problem('withdrawal-amount', { status: 422 }), state).message).toBe('请输入 ¥1.00 – ¥200.00 之间的金额');
    expect(problemView(problem('insufficient-available'), state)).toEqual({
      field: 'amount',
      message: '可提现余额不足（当前 ¥123.45），请刷新后重试',
    });
    expect(problemView(problem('daily-limit'), state).field).toBe('amount');
  });
  it('turns a state problem into the blocked reason, and accepts a bare slug as type', () => {
    expect(problemView(problem('withdrawal-open'), state)).toEqual({
      field: 'blocked',
      message: '你有一笔提现正在处理，完成后才能再次申请。',
    });
    expect(problemView({ status: 409, type: 'negative-balance' }, state).field).toBe('blocked');
    expect(problemView(problem('openid-required'), state).message).toContain('请在微信内打开本页提现');
  });
  it('sends an expired session to sign-in and keeps unknown problems in the server words', () => {
    expect(problemView({ status: 401 }, state).field).toBe('session');
    expect(problemView({ status: 500, message: '服务器忙' }, state)).toEqual({ field: 'general', message: '服务器忙' });
  });
});

describe('withdrawalView', () => {
  const item = { id: 9, amountFen: 5000, status: 'pending', createdAt: '2026-12-06T16:30:00Z', confirm: null };
  it('shows the amount, the Beijing time and the state in Chinese', () => {
    expect(withdrawalView(item)).toMatchObject({
      amount: '¥50.00',
      time: '2026-12-07 00:30',
      statusLabel: '审核中',
      note: '等待活动方审核',
      confirm: null,
    });
    expect(withdrawalView({ ...item, status: 'approved' }).statusLabel).toBe('待打款');
    expect(withdrawalView({ ...item, status: 'paid', paidAt: '2026-12-07T02:00:00Z' })).toMatchObject({
      statusLabel: '已到账',
      tone: 'done',
      note: '2026-12-07 10:00 已到账',
    });
  });
  it('gives the reject reason and a failed transfer in words, both saying the money came back', () => {
    expect(withdrawalView({ ...item, status: 'rejected', rejectReason: '信息不符' })).toMatchObject({
      note: '驳回原因：信息不符',
      returned: '金额已退回可提现余额',
    });
    expect(withdrawalView({ ...item, status: 'failed', failReason: 'expired' })).toMatchObject({
      note: '超时未确认收款，转账已撤销',
      returned: '金额已退回可提现余额',
    });
    expect(withdrawalView({ ...item, status: 'failed', failReason: 'EXPIRED' }).note).toBe('超时未确认收款，转账已撤销');
    expect(withdrawalView({ ...item, status: 'failed', failReason: 'ACCOUNT_FROZEN' }).note).toBe('微信转账未成功（ACCOUNT_FROZEN）');
    expect(withdrawalView({ ...item, status: 'failed' }).note).toBe('转账未成功');
    expect(withdrawalView(item).returned).toBe('');
  });
  it('asks for 确认收款 only while WeChat waits for the user', () => {
    const confirm = { mchId: '1900000001', appId: 'wx1', package: 'pkg' };
    const waiting = withdrawalView({ ...item, status: 'transferring', confirm });
    expect(waiting).toMatchObject({ statusLabel: '待确认收款', tone: 'act', confirm });
    expect(withdrawalView({ ...item, status: 'transferring' })).toMatchObject({ statusLabel: '转账中', confirm: null });
    expect(withdrawalView({ ...item, status: 'paid', confirm }).confirm).toBeNull();
  });
});

describe('payout line and figures', () => {
  it('explains how the money arrives in each mode', () => {
    expect(payoutLine('manual')).toContain('线下打款');
    expect(payoutLine('wechat')).toContain('确认收款');
  });
  it('shows available, withdrawing and paid out, flagging a debt', () => {
    expect(balanceFigures({ availableFen: -120, withdrawingFen: 5000, paidOutFen: 100 })).toEqual({
      available: '-1.20',
      withdrawing: '50.00',
      paidOut: '1.00',
      debt: true,
    });
  });
  it('on 我的奖励, names money on its way and paid out', () => {
    expect(withdrawTip({ withdrawingFen: 5000, paidOutFen: 100 })).toBe('提现中 ¥50.00 · 已提现 ¥1.00');
    expect(withdrawTip({})).toBe('可提现的奖励申请后由活动方审核发放');
  });
});

describe('requestMerchantTransfer', () => {
  const bridge = (errMsg, calls = []) => ({
    invoke(name, params, cb) {
      calls.push({ name, params });
      cb({ err_msg: errMsg });
    },
  });
  it('calls the bridge with exactly mchId, appId and package', async () => {
    const calls = [];
    const r = await requestMerchantTransfer(bridge('requestMerchantTransfer:ok', calls), {
      mchId: 'm',
      appId: 'a',
      package: 'p',
      extra: 1,
    });
    expect(r).toBe('ok');
    expect(calls).toEqual([{ name: 'requestMerchantTransfer', params: { mchId: 'm', appId: 'a', package: 'p' } }]);
  });
  it('tells cancel from fail, and a throwing bridge is a fail', async () => {
    expect(await requestMerchantTransfer(bridge('requestMerchantTransfer:cancel'), {})).toBe('cancel');
    expect(await requestMerchantTransfer(bridge('requestMerchantTransfer:fail no permission'), {})).toBe('fail');
    expect(
      await requestMerchantTransfer(
        {
          invoke() {
            throw new Error('x');
          },
        },
        {},
      ),
    ).toBe('fail');
  });
});
