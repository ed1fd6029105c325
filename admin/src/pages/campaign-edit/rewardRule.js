// The campaign reward rule (docs/API.md, issue 17): hold days, 1–3 levels (fixed / percentage / tiered)
// and caps per referrer. The API speaks fen and basis points; the editor speaks yuan and percent.
import { fenToYuan, yuanToFen, percentageRewardFen } from '../../utils/format.js';

export const LEVEL_TYPES = [
  { value: 'fixed', label: '固定金额' },
  { value: 'percentage', label: '按比例' },
  { value: 'tiered', label: '阶梯' },
];
export const MAX_LEVELS = 3;
export const DEFAULT_HOLD_DAYS = 7;
const LEVEL_NAMES = ['一级', '二级', '三级'];
const LEVEL_WHO = ['好友', '好友邀请的人', '再下一级的人'];

/** Any accepted shape (the old one-level `{type, amountFen|basisPoints}` too) → the new shape. */
export function normalizeRule(reward) {
  if (!reward || typeof reward !== 'object')
    return { holdDays: DEFAULT_HOLD_DAYS, levels: [{ type: 'fixed', amountFen: 0 }], caps: emptyCaps() };
  if (!Array.isArray(reward.levels)) {
    const { type, amountFen, basisPoints } = reward;
    const level = type === 'percentage' ? { type, basisPoints } : { type: 'fixed', amountFen };
    return { holdDays: DEFAULT_HOLD_DAYS, levels: [level], caps: emptyCaps() };
  }
  return {
    holdDays: Number.isInteger(reward.holdDays) ? reward.holdDays : DEFAULT_HOLD_DAYS,
    levels: reward.levels.map((l) => ({ ...l })),
    caps: { ...emptyCaps(), ...(reward.caps || {}) },
  };
}

function emptyCaps() {
  return { totalFen: null, count: null, dailyFen: null };
}

const yuanOf = (fen) => (Number.isInteger(fen) ? Number(fenToYuan(fen)) : null);
const fenOf = (yuan) => (yuan === null || yuan === undefined || yuan === '' ? null : yuanToFen(yuan));
const bpOf = (percent) => (percent === null || percent === undefined || percent === '' ? null : yuanToFen(percent));

/** A level as the editor holds it: every type's inputs kept, so switching type loses nothing typed. */
export function newLevel(type = 'fixed') {
  return { type, amountYuan: 0, percent: 10, tiers: [{ from: 1, amountYuan: 5 }] };
}

/** The API's rule → the editor's model (yuan, percent). */
export function ruleToModel(reward) {
  const r = normalizeRule(reward);
  return {
    holdDays: r.holdDays,
    levels: r.levels.map((l) => {
      const m = newLevel(l.type);
      if (l.type === 'fixed') m.amountYuan = yuanOf(l.amountFen) ?? 0;
      if (l.type === 'percentage') m.percent = Number.isInteger(l.basisPoints) ? l.basisPoints / 100 : 0;
      if (l.type === 'tiered') m.tiers = (l.tiers || []).map((t) => ({ from: t.from, amountYuan: yuanOf(t.amountFen) ?? 0 }));
      return m;
    }),
    caps: { totalYuan: yuanOf(r.caps.totalFen), count: r.caps.count ?? null, dailyYuan: yuanOf(r.caps.dailyFen) },
  };
}

/** The editor's model → the API's rule (fen, basis points; null caps mean none). */
export function modelToRule(model) {
  return {
    holdDays: model.holdDays,
    levels: model.levels.map((m) => {
      if (m.type === 'percentage') return { type: 'percentage', basisPoints: bpOf(m.percent) };
      if (m.type === 'tiered') return { type: 'tiered', tiers: m.tiers.map((t) => ({ from: t.from, amountFen: fenOf(t.amountYuan) })) };
      return { type: 'fixed', amountFen: fenOf(m.amountYuan) };
    }),
    caps: {
      totalFen: fenOf(model.caps.totalYuan),
      count: model.caps.count === '' || model.caps.count === undefined ? null : model.caps.count,
      dailyFen: fenOf(model.caps.dailyYuan),
    },
  };
}

/**
 * The rule's breaks the server would answer 422 for, keyed like the server's field errors
 * (`reward.levels[1].amountFen`), so one display serves both.
 */
export function validateRule(rule, priceFen) {
  const errors = {};
  const add = (k, m) => (errors[k] ||= m);
  if (!Number.isInteger(rule.holdDays) || rule.holdDays < 0 || rule.holdDays > 90) add('reward.holdDays', '冻结期须为 0–90 天');
  if (!rule.levels.length) add('reward.levels', '至少设置一级奖励');
  if (rule.levels.length > MAX_LEVELS) add('reward.levels', `最多 ${MAX_LEVELS} 级奖励`);
  const amount = (k, fen) => {
    if (!Number.isInteger(fen) || fen < 0) add(k, '请填写奖励金额');
    else if (fen > priceFen) add(k, '奖励不能高于报名费');
  };
  rule.levels.forEach((l, i) => {
    const p = `reward.levels[${i}]`;
    if (l.type === 'fixed') amount(`${p}.amountFen`, l.amountFen);
    else if (l.type === 'percentage') {
      if (!Number.isInteger(l.basisPoints) || l.basisPoints < 0 || l.basisPoints > 10000) add(`${p}.basisPoints`, '比例须在 0–100% 之间');
    } else if (l.type === 'tiered') {
      if (!l.tiers?.length) add(`${p}.tiers`, '至少设置一档');
      l.tiers?.forEach((t, j) => {
        const tp = `${p}.tiers[${j}]`;
        if (j === 0 && t.from !== 1) add(`${tp}.from`, '第一档须从第 1 人起');
        else if (!Number.isInteger(t.from) || t.from < 1) add(`${tp}.from`, '人数须为正整数');
        else if (j > 0 && !(t.from > l.tiers[j - 1].from)) add(`${tp}.from`, '每档的起始人数须大于上一档');
        amount(`${tp}.amountFen`, t.amountFen);
      });
    } else add(`${p}.type`, '请选择奖励方式');
  });
  const cap = (k, v, m) => v !== null && v !== undefined && (!Number.isInteger(v) || v < 1) && add(k, m);
  cap('reward.caps.totalFen', rule.caps.totalFen, '累计上限至少 ¥0.01');
  cap('reward.caps.count', rule.caps.count, '笔数上限至少 1 笔');
  cap('reward.caps.dailyFen', rule.caps.dailyFen, '每日上限至少 ¥0.01');
  return errors;
}

/** 500 → "¥5", 450 → "¥4.50" (whole yuan without decimals, as people write prices). */
export function money(fen) {
  const y = fenToYuan(fen);
  return `¥${y.endsWith('.00') ? y.slice(0, -3) : y}`;
}

function percentText(bp) {
  return `${fenToYuan(bp).replace(/\.?0+$/, '')}%`;
}

function levelSentence(level, priceFen) {
  if (level.type === 'percentage') {
    const bp = level.basisPoints ?? 0;
    return `每推荐 1 人得报名费的 ${percentText(bp)}（${money(percentageRewardFen(priceFen, bp))}）`;
  }
  if (level.type === 'tiered') {
    const tiers = level.tiers || [];
    return tiers
      .map((t, i) =>
        i === 0 && t.from === 1 ? `推荐 1 人得 ${money(t.amountFen ?? 0)}` : `第 ${t.from} 人起每人 ${money(t.amountFen ?? 0)}`,
      )
      .join('，');
  }
  return `每推荐 1 人得 ${money(level.amountFen ?? 0)}`;
}

/**
 * The rule in plain words, one sentence per line, e.g.
 * ["推荐 1 人得 ¥5，第 6 人起每人 ¥8，每人每天最多 ¥100", "二级（好友邀请的人报名）：每人得 ¥2", "好友付款 7 天后奖励可提现"].
 */
export function describeRule(reward, priceFen = 0) {
  const r = normalizeRule(reward);
  const lines = [];
  const caps = [];
  if (r.caps.totalFen) caps.push(`每人本活动最多得 ${money(r.caps.totalFen)}`);
  if (r.caps.count) caps.push(`最多 ${r.caps.count} 笔`);
  if (r.caps.dailyFen) caps.push(`每人每天最多 ${money(r.caps.dailyFen)}`);
  r.levels.forEach((l, i) => {
    if (i === 0) lines.push([levelSentence(l, priceFen), ...caps].join('，'));
    else lines.push(`${LEVEL_NAMES[i]}（${LEVEL_WHO[i]}报名）：${levelSentence(l, priceFen).replace(/^每推荐 1 人得/, '每人得')}`);
  });
  lines.push(r.holdDays === 0 ? '好友付款后奖励立即可提现' : `好友付款 ${r.holdDays} 天后奖励可提现`);
  return lines;
}
