import { describe, it, expect } from 'vitest';
import { rewardView, balanceCards, monthDay, rememberPhone, rememberedPhone, inviteLink, PHONE_TTL_MS } from '../../src/lib/rewards.js';
import { memoryStorage } from './memoryStorage.js';

const item = {
  id: 7,
  orderId: 42,
  campaignId: 3,
  campaignTitle: '冬季训练营',
  friendName: '王小明',
  friendPhoneMasked: '139****0001',
  level: 1,
  amountFen: 1000,
  reversedFen: 0,
  status: 'frozen',
  settledAt: '2026-12-06T03:00:00Z',
  availableAt: '2026-12-13T03:00:00Z',
};

describe('rewardView', () => {
  it('names the friend and campaign and says when a frozen reward becomes available, in Beijing time', () => {
    const v = rewardView(item);
    expect(v).toMatchObject({ friend: '王小明', phone: '139****0001', campaign: '冬季训练营', level: '直接邀请', amount: '¥10.00' });
    expect(v.note).toBe('预计 12月13日 可提现');
    expect(v.statusLabel).toBe('冻结中');
  });
  it('uses the Beijing date, not the UTC one, near midnight', () => {
    expect(monthDay('2026-12-12T16:30:00Z')).toBe('12月13日');
    expect(monthDay('2026-12-12T15:59:00Z')).toBe('12月12日');
    expect(monthDay('')).toBe('');
  });
  it('marks a fully reversed reward and tells a partial reversal', () => {
    const full = rewardView({ ...item, status: 'reversed', reversedFen: 1000 });
    expect(full.struck).toBe(true);
    expect(full.statusLabel).toBe('已冲正');
    expect(full.note).toBe('好友已退款，奖励已冲正');
    const part = rewardView({ ...item, status: 'available', reversedFen: 250 });
    expect(part.partlyReversed).toBe(true);
    expect(part.net).toBe('¥7.50');
    expect(part.note).toBe('已可提现（好友部分退款，已冲正 ¥2.50）');
  });
  it('falls back to the masked phone when the friend left no name, and names levels 2 and 3', () => {
    expect(rewardView({ ...item, friendName: null }).friend).toBe('139****0001');
    expect(rewardView({ ...item, level: 2 }).level).toBe('二级邀请');
    expect(rewardView({ ...item, level: 3 }).level).toBe('三级邀请');
  });
});

describe('balanceCards', () => {
  it('shows frozen, available and total, and flags a negative available as a debt', () => {
    expect(balanceCards({ frozenFen: 500, availableFen: -120, totalEarnedFen: 1500 })).toEqual([
      { key: 'frozen', label: '冻结中', value: '5.00' },
      { key: 'available', label: '可提现', value: '-1.20', debt: true },
      { key: 'total', label: '累计奖励', value: '15.00' },
    ]);
  });
  it('reads the old totalRewardFen when totalEarnedFen is missing', () => {
    expect(balanceCards({ totalRewardFen: 100 })[2].value).toBe('1.00');
  });
});

describe('the phone paid with', () => {
  it('is remembered for a week on this device only', () => {
    const store = memoryStorage();
    rememberPhone('13900000001', store, 1000);
    expect(rememberedPhone(store, 1000 + PHONE_TTL_MS - 1)).toBe('13900000001');
    expect(rememberedPhone(store, 1000 + PHONE_TTL_MS)).toBe('');
    expect(store.size).toBe(0);
  });
  it('ignores anything that is not a mainland mobile number', () => {
    const store = memoryStorage();
    rememberPhone('12345', store);
    rememberPhone('<script>', store);
    expect(rememberedPhone(store)).toBe('');
  });
});

describe('inviteLink', () => {
  it('carries the referral code as u_id', () => {
    expect(inviteLink('https://x.test/h5/', 3, 'Ab_12')).toBe('https://x.test/h5/#/pages/campaign/index?id=3&u_id=Ab_12');
    expect(inviteLink('https://x.test/h5/', null, 'Ab_12')).toBe('');
  });
});
