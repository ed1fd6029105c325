import { describe, it, expect } from 'vitest';
import { normalizeRule, ruleToModel, modelToRule, validateRule, describeRule, money, newLevel } from './rewardRule.js';

const tiered = {
  holdDays: 7,
  levels: [
    {
      type: 'tiered',
      tiers: [
        { from: 1, amountFen: 500 },
        { from: 6, amountFen: 800 },
      ],
    },
  ],
  caps: { totalFen: null, count: null, dailyFen: 10000 },
};

describe('describeRule (the editor preview)', () => {
  it('says a tiered rule with a daily cap the way the issue writes it', () => {
    expect(describeRule(tiered, 9900)[0]).toBe('推荐 1 人得 ¥5，第 6 人起每人 ¥8，每人每天最多 ¥100');
  });
  it('names the hold period, and says "at once" for 0 days', () => {
    expect(describeRule(tiered, 9900).at(-1)).toBe('好友付款 7 天后奖励可提现');
    expect(describeRule({ ...tiered, holdDays: 0 }, 9900).at(-1)).toBe('好友付款后奖励立即可提现');
  });
  it('shows percentages with the amount they give on the price, rounded down to the fen', () => {
    const r = { holdDays: 7, levels: [{ type: 'percentage', basisPoints: 1500 }], caps: {} };
    expect(describeRule(r, 999)[0]).toBe('每推荐 1 人得报名费的 15%（¥1.49）');
    expect(describeRule({ ...r, levels: [{ type: 'percentage', basisPoints: 125 }] }, 10000)[0]).toBe(
      '每推荐 1 人得报名费的 1.25%（¥1.25）',
    );
  });
  it('gives levels 2 and 3 a line each and lists every cap', () => {
    const r = {
      holdDays: 14,
      levels: [
        { type: 'fixed', amountFen: 1000 },
        { type: 'fixed', amountFen: 250 },
        { type: 'percentage', basisPoints: 100 },
      ],
      caps: { totalFen: 50000, count: 20, dailyFen: null },
    };
    expect(describeRule(r, 9900)).toEqual([
      '每推荐 1 人得 ¥10，每人本活动最多得 ¥500，最多 20 笔',
      '二级（好友邀请的人报名）：每人得 ¥2.50',
      '三级（再下一级的人报名）：每人得报名费的 1%（¥0.99）',
      '好友付款 14 天后奖励可提现',
    ]);
  });
  it('reads the old one-level shape as one level held 7 days', () => {
    expect(describeRule({ type: 'fixed', amountFen: 1000 }, 9900)).toEqual(['每推荐 1 人得 ¥10', '好友付款 7 天后奖励可提现']);
  });
  it('writes whole yuan without decimals and keeps fen otherwise', () => {
    expect(money(500)).toBe('¥5');
    expect(money(450)).toBe('¥4.50');
    expect(money(5)).toBe('¥0.05');
  });
});

describe('editor model ↔ API rule', () => {
  it('round-trips every level type and caps in integer fen and basis points', () => {
    const rule = {
      holdDays: 3,
      levels: [
        {
          type: 'tiered',
          tiers: [
            { from: 1, amountFen: 510 },
            { from: 21, amountFen: 1000 },
          ],
        },
        { type: 'percentage', basisPoints: 1250 },
        { type: 'fixed', amountFen: 1 },
      ],
      caps: { totalFen: 99999, count: 5, dailyFen: null },
    };
    const model = ruleToModel(rule);
    expect(model.levels[0].tiers[0].amountYuan).toBe(5.1);
    expect(model.levels[1].percent).toBe(12.5);
    expect(model.caps).toEqual({ totalYuan: 999.99, count: 5, dailyYuan: null });
    expect(modelToRule(model)).toEqual(rule);
  });
  it('turns float-looking yuan into exact fen', () => {
    const m = ruleToModel({ type: 'fixed', amountFen: 0 });
    m.levels[0].amountYuan = 0.1 + 0.2;
    expect(modelToRule(m).levels[0]).toEqual({ type: 'fixed', amountFen: 30 });
  });
  it('fills defaults for a missing rule', () => {
    expect(normalizeRule(null)).toEqual({
      holdDays: 7,
      levels: [{ type: 'fixed', amountFen: 0 }],
      caps: { totalFen: null, count: null, dailyFen: null },
    });
    expect(newLevel('tiered').tiers[0].from).toBe(1);
  });
});

describe('validateRule', () => {
  it('accepts a good rule', () => {
    expect(validateRule(tiered, 9900)).toEqual({});
  });
  it('keys each break like the server does', () => {
    const rule = {
      holdDays: 91,
      levels: [
        { type: 'fixed', amountFen: 9901 },
        {
          type: 'tiered',
          tiers: [
            { from: 2, amountFen: 1 },
            { from: 6, amountFen: 1 },
            { from: 6, amountFen: 1 },
          ],
        },
        { type: 'percentage', basisPoints: 10001 },
      ],
      caps: { totalFen: 0, count: 0, dailyFen: null },
    };
    expect(validateRule(rule, 9900)).toEqual({
      'reward.holdDays': '冻结期须为 0–90 天',
      'reward.levels[0].amountFen': '奖励不能高于报名费',
      'reward.levels[1].tiers[0].from': '第一档须从第 1 人起',
      'reward.levels[1].tiers[2].from': '每档的起始人数须大于上一档',
      'reward.levels[2].basisPoints': '比例须在 0–100% 之间',
      'reward.caps.totalFen': '累计上限至少 ¥0.01',
      'reward.caps.count': '笔数上限至少 1 笔',
    });
  });
  it('takes the edges: hold 0 and 90, an amount equal to the price', () => {
    expect(validateRule({ ...tiered, holdDays: 0 }, 9900)).toEqual({});
    expect(validateRule({ ...tiered, holdDays: 90 }, 9900)).toEqual({});
    expect(validateRule({ ...tiered, holdDays: -1 }, 9900)['reward.holdDays']).toBeTruthy();
    expect(validateRule({ holdDays: 7, levels: [{ type: 'fixed', amountFen: 9900 }], caps: {} }, 9900)).toEqual({});
  });
  it('refuses more than three levels and an empty tier list', () => {
    const four = { holdDays: 7, levels: Array(4).fill({ type: 'fixed', amountFen: 1 }), caps: {} };
    expect(validateRule(four, 100)['reward.levels']).toBe('最多 3 级奖励');
    expect(validateRule({ holdDays: 7, levels: [{ type: 'tiered', tiers: [] }], caps: {} }, 100)['reward.levels[0].tiers']).toBe(
      '至少设置一档',
    );
  });
});
