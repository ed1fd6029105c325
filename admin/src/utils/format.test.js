import { describe, it, expect } from 'vitest';
import {
  fenToYuan,
  formatMoney,
  yuanToFen,
  percentageRewardFen,
  rewardExample,
  basisPointsToPercent,
  isoToWall,
  wallToIso,
  dateRangeToQuery,
  formatPercent,
} from './format.js';
import { normalizeErrors, buildQuery } from '../api/http.js';

describe('money', () => {
  it('formats fen as yuan with 2 decimals', () => {
    expect(fenToYuan(9900)).toBe('99.00');
    expect(fenToYuan(5)).toBe('0.05');
    expect(fenToYuan(-150)).toBe('-1.50');
    expect(formatMoney(123456789)).toBe('¥1,234,567.89');
    expect(formatMoney(null)).toBe('—');
    expect(formatMoney(-350)).toBe('-¥3.50');
    expect(formatMoney(-123456)).toBe('-¥1,234.56');
  });
  it('parses yuan into integer fen', () => {
    expect(yuanToFen('99')).toBe(9900);
    expect(yuanToFen(99.9)).toBe(9990);
    expect(yuanToFen(0.1 + 0.2)).toBe(30);
    expect(yuanToFen('0.05')).toBe(5);
    expect(yuanToFen('1.234')).toBeNull();
    expect(yuanToFen('abc')).toBeNull();
  });
  it('computes percentage rewards rounded down to the fen', () => {
    expect(percentageRewardFen(9900, 1000)).toBe(990);
    expect(percentageRewardFen(999, 1500)).toBe(149);
    expect(rewardExample({ type: 'percentage', basisPoints: 1000 }, 9900)).toBe('报名费 ¥99.00 → 推荐人得 ¥9.90');
    expect(rewardExample({ type: 'fixed', amountFen: 1000 }, 9900)).toBe('报名费 ¥99.00 → 推荐人得 ¥10.00');
    expect(basisPointsToPercent(1500)).toBe('15%');
    expect(basisPointsToPercent(125)).toBe('1.25%');
  });
});

describe('time in Asia/Shanghai', () => {
  it('shows instants as Shanghai wall time whatever the offset', () => {
    expect(isoToWall('2026-12-01T00:00:00+08:00')).toBe('2026-12-01 00:00:00');
    expect(isoToWall('2026-11-30T16:00:00Z')).toBe('2026-12-01 00:00:00');
    expect(isoToWall('')).toBe('');
  });
  it('turns wall time into ISO 8601 with +08:00', () => {
    expect(wallToIso('2026-12-31 23:59:59')).toBe('2026-12-31T23:59:59+08:00');
    expect(wallToIso('2026-12-31')).toBe('2026-12-31T00:00:00+08:00');
    expect(dateRangeToQuery(['2026-12-01', '2026-12-02'])).toEqual({ from: '2026-12-01T00:00:00+08:00', to: '2026-12-02T23:59:59+08:00' });
  });
  it('formats ratios', () => {
    expect(formatPercent(0.9876)).toBe('98.8%');
    expect(formatPercent(null)).toBe('—');
  });
});

describe('http helpers', () => {
  it('normalises problem field names to request spelling', () => {
    expect(normalizeErrors({ Name: ['x'], 'Reward.AmountFen': ['y'], 'formData.Company': ['z'] })).toEqual({
      name: ['x'],
      'reward.amountFen': ['y'],
      'formData.Company': ['z'],
    });
  });
  it('builds queries without empty values', () => {
    expect(buildQuery({ a: 1, b: '', c: null, d: 'x y' })).toBe('?a=1&d=x+y');
  });
});
