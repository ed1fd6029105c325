import { describe, it, expect } from 'vitest';
import { openTagHtml, subscribeAnswer, noticeHint, isTemplateId } from '../../src/lib/notices.js';

const T = 'TMPL_reward-changed_01';

describe('the subscribe open tag', () => {
  it('carries the template id and the label inside WeChat template scripts', () => {
    const html = openTagHtml(T, '开启到账提醒');
    expect(html).toContain(`<wx-open-subscribe template="${T}"`);
    expect(html).toContain('<script type="text/wxtag-template" slot="style">');
    expect(html).toContain('<div class="btn">开启到账提醒</div>');
  });

  it('is never built around an unsafe template id, and escapes the label', () => {
    expect(openTagHtml('x" onclick="alert(1)', 'a')).toBe('');
    expect(isTemplateId('')).toBe(false);
    expect(openTagHtml(T, '<b>&"')).toContain('&#60;b&#62;&#38;&#34;');
  });
});

describe("the open tag's answer", () => {
  const detail = (status, errMsg = 'subscribe:ok') => ({
    errMsg,
    subscribeDetails: JSON.stringify({ [T]: JSON.stringify({ status }) }),
  });

  it('reads accept and reject for our template', () => {
    expect(subscribeAnswer(detail('accept'), T)).toBe('accept');
    expect(subscribeAnswer(detail('reject'), T)).toBe('reject');
  });

  it('is null for another template, a failed call or malformed details', () => {
    expect(subscribeAnswer(detail('accept'), 'other')).toBeNull();
    expect(subscribeAnswer(detail('accept', 'subscribe:fail'), T)).toBeNull();
    expect(subscribeAnswer({ errMsg: 'subscribe:ok', subscribeDetails: '{not json' }, T)).toBeNull();
    expect(subscribeAnswer(null, T)).toBeNull();
  });

  it('also takes already parsed details', () => {
    expect(subscribeAnswer({ errMsg: 'subscribe:ok', subscribeDetails: { [T]: { status: 'accept' } } }, T)).toBe('accept');
  });
});

describe('the hint', () => {
  it('says how many notices are still to come', () => {
    expect(noticeHint(2)).toContain('2 次');
    expect(noticeHint(0)).toContain('第一时间通知你');
  });
});

describe('the open tag once subscribed', () => {
  it('asks again in the secondary style', () => {
    expect(openTagHtml(T, '再开启一次提醒', { secondary: true })).toContain('background:#fff;color:#07c160');
    expect(openTagHtml(T, '开启到账提醒')).toContain('background:#07c160;color:#fff');
  });
});
