import { request } from '../api/http.js';
import { getH5Config } from '../api/h5config.js';
import { readAttribution } from './attribution.js';
import { detectEnv } from './env.js';
import { readJson, writeJson } from './storage.js';

// The participant's own referral code (DECISIONS.md: opaque, per participant across campaigns).
const OWN_CODE_KEY = 'dmh.referralCode';
const SAFE = /^[A-Za-z0-9_-]{1,64}$/;
const JS_API_LIST = ['updateAppMessageShareData', 'updateTimelineShareData', 'onMenuShareAppMessage', 'onMenuShareTimeline'];

/** Remembers the code once the participant has one (their paid order carries it). */
export function rememberOwnReferralCode(code, store) {
  if (code && SAFE.test(code)) writeJson(OWN_CODE_KEY, code, store);
}

export function ownReferralCode(store) {
  const v = readJson(OWN_CODE_KEY, store);
  return typeof v === 'string' && SAFE.test(v) ? v : null;
}

/**
 * The link a share card carries: the campaign page with the channel the sharer came through and the
 * sharer's own code once they have one, else the `u_id` they came with.
 */
export function shareLinkFor(campaignId, { base, store, now } = {}) {
  const q = new URLSearchParams({ id: String(campaignId) });
  const { cId, uId } = readAttribution(campaignId, store, now);
  if (cId) q.set('c_id', cId);
  const code = ownReferralCode(store) || uId;
  if (code) q.set('u_id', code);
  const root = base ?? `${location.origin}${location.pathname}`;
  return `${root}#/pages/campaign/index?${q}`;
}

/** The card's text: title, a one-line description and an absolute cover URL. */
export function shareCard(campaign, link) {
  const desc = String(campaign.description || '')
    .replace(/\s+/g, ' ')
    .trim();
  let imgUrl = '';
  if (campaign.coverUrl) {
    try {
      imgUrl = new URL(campaign.coverUrl, typeof location === 'undefined' ? undefined : location.href).href;
    } catch {
      imgUrl = '';
    }
  }
  return {
    title: String(campaign.name || '活动报名'),
    desc: desc ? desc.slice(0, 60) : '点击查看活动详情并报名',
    link,
    imgUrl,
  };
}

let wxReady = null;

function loadScript(src) {
  if (typeof window !== 'undefined' && window.wx && window.wx.config) return Promise.resolve(window.wx);
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => (window.wx ? resolve(window.wx) : reject(new Error('wx missing')));
    s.onerror = () => reject(new Error('JS-SDK not loaded'));
    document.head.appendChild(s);
  });
}

/**
 * wx.config once per page load: the hash router keeps the part before `#` (the signed URL) unchanged
 * while the app moves between pages. Resolves with `wx` once WeChat accepted the signature.
 */
function configure() {
  wxReady ||= (async () => {
    const cfg = await getH5Config();
    const wx = await loadScript(cfg.jsSdkUrl);
    // The OAuth return drops `code` and `state` from the address while this runs: sign what wx.config will see.
    let data;
    for (let i = 0; i < 3; i++) {
      const url = location.href.split('#')[0];
      ({ data } = await request('GET', `/api/v1/h5/jssdk-config?url=${encodeURIComponent(url)}`));
      if (location.href.split('#')[0] === url) break;
    }
    return new Promise((resolve, reject) => {
      wx.ready(() => resolve(wx));
      wx.error((e) => reject(new Error((e && e.errMsg) || 'config failed')));
      wx.config({
        debug: false,
        appId: data.appId,
        timestamp: data.timestamp,
        nonceStr: data.nonceStr,
        signature: data.signature,
        jsApiList: JS_API_LIST,
        // The subscribe-notice button (issue 18, components/NoticeSubscribe.vue).
        openTagList: ['wx-open-subscribe'],
      });
    });
  })().catch((e) => {
    wxReady = null;
    throw e;
  });
  return wxReady;
}

/** Inside WeChat: resolves with `wx` once wx.config is accepted (open tags render only after that). */
export function wechatReady() {
  return configure();
}

/**
 * Inside WeChat: sets the chat and Moments share card of the current page. Elsewhere (and when WeChat
 * refuses) it does nothing: sharing then falls back to the plain page URL, which still opens the campaign.
 */
export async function setShareCard(card) {
  if (detectEnv() !== 'wechat' || !card || !card.link) return false;
  try {
    const wx = await configure();
    wx.updateAppMessageShareData({ title: card.title, desc: card.desc, link: card.link, imgUrl: card.imgUrl });
    // Moments shows only the title.
    wx.updateTimelineShareData({ title: card.title, link: card.link, imgUrl: card.imgUrl });
    return true;
  } catch (e) {
    console.warn('share card not set', e);
    return false;
  }
}

/** One call per page: the campaign's card with this browser's share link. */
export function shareCampaign(campaign, campaignId) {
  const id = campaignId ?? campaign?.id;
  if (!campaign || id == null) return Promise.resolve(false);
  return setShareCard(shareCard(campaign, shareLinkFor(id)));
}

/** For pages that know only the campaign id (success, rewards). */
export async function shareCampaignById(campaignId) {
  if (detectEnv() !== 'wechat' || campaignId == null || campaignId === '') return false;
  try {
    const { getCampaignForm } = await import('../api/campaigns.js');
    return await shareCampaign(await getCampaignForm(campaignId), campaignId);
  } catch {
    return false;
  }
}

/**
 * A success page opened without this browser's order token (a friend opened a shared link): the
 * campaign page instead, keeping the channel and referrer the link carries.
 */
export function openedFromShare(query) {
  const q = new URLSearchParams({ id: String(query.id) });
  for (const k of ['c_id', 'u_id']) if (query[k] && SAFE.test(query[k])) q.set(k, query[k]);
  uni.reLaunch({ url: `/pages/campaign/index?${q}` });
}

/**
 * Puts the sharer's code (and channel) into the current page's hash query, so a plain copy of the
 * page URL (the "···" menu before the JS-SDK is ready, a browser's copy link) still carries them.
 */
export function keepReferrerInUrl(campaignId, code) {
  if (!code || !SAFE.test(code) || typeof history === 'undefined') return;
  const [path, query = ''] = location.hash.split('?');
  const q = new URLSearchParams(query);
  if (q.get('u_id') === code) return;
  q.set('u_id', code);
  const { cId } = readAttribution(campaignId);
  if (cId && !q.get('c_id')) q.set('c_id', cId);
  history.replaceState(history.state, '', `${location.pathname}${location.search}${path}?${q}`);
}
