import { describe, it, expect } from 'vitest';
import { captureAttribution } from '../../src/lib/attribution.js';
import { shareLinkFor, rememberOwnReferralCode, ownReferralCode, shareCard } from '../../src/lib/share.js';
import { memoryStorage } from './memoryStorage.js';

const base = 'https://act.example.com/h5/';

describe('share links', () => {
  it('keep the campaign and channel and carry the u_id the sharer came with', () => {
    const s = memoryStorage();
    captureAttribution('7', { c_id: 'wx_group', u_id: 'Friend0001' }, s, 1000);
    expect(shareLinkFor('7', { base, store: s, now: 2000 })).toBe(`${base}#/pages/campaign/index?id=7&c_id=wx_group&u_id=Friend0001`);
  });

  it("carry the sharer's own referral code once they have one", () => {
    const s = memoryStorage();
    captureAttribution('7', { c_id: 'wx_group', u_id: 'Friend0001' }, s, 1000);
    rememberOwnReferralCode('MyOwnCode9', s);
    expect(shareLinkFor('7', { base, store: s, now: 2000 })).toBe(`${base}#/pages/campaign/index?id=7&c_id=wx_group&u_id=MyOwnCode9`);
  });

  it('are the bare campaign link for a visitor without channel or code', () => {
    expect(shareLinkFor('7', { base, store: memoryStorage() })).toBe(`${base}#/pages/campaign/index?id=7`);
  });

  it('never keep an unsafe code', () => {
    const s = memoryStorage();
    rememberOwnReferralCode('bad code&x=1', s);
    expect(ownReferralCode(s)).toBeNull();
  });
});

describe('share card', () => {
  it('has the campaign name, a one-line description and an absolute cover', () => {
    const card = shareCard(
      { name: '少儿编程体验课', description: '3 节直播课\n+ 1 次规划', coverUrl: 'https://act.example.com/uploads/c.png' },
      'L',
    );
    expect(card).toEqual({
      title: '少儿编程体验课',
      desc: '3 节直播课 + 1 次规划',
      link: 'L',
      imgUrl: 'https://act.example.com/uploads/c.png',
    });
  });
});
