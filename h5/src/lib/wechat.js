import { getH5Config } from '../api/h5config.js';
import { getWechatState, wechatLogin } from '../api/auth.js';
import { getSession, saveSession, clearSession } from './session.js';

const STATE_KEY = 'dmh.oauth.state';
const TRIES_KEY = 'dmh.oauth.tries';
const OAUTH_PARAMS = ['code', 'state'];

/**
 * WeChat redirects to `redirect_uri?code=…&state=…`; with a hash router the pair lands before the
 * `#` (real WeChat) or inside the hash query (simple stand-ins): accept both.
 */
export function oauthParams(href) {
  const u = new URL(href);
  let code = u.searchParams.get('code');
  let state = u.searchParams.get('state');
  if (!code) {
    const q = u.hash.split('?')[1];
    if (q) {
      const p = new URLSearchParams(q);
      code = p.get('code');
      state = p.get('state');
    }
  }
  return code ? { code, state } : null;
}

/** The same URL without the one-use code, so a refresh does not re-send it (errcode 40029). */
export function stripOAuthParams(href) {
  const u = new URL(href);
  for (const k of OAUTH_PARAMS) u.searchParams.delete(k);
  const [path, q] = u.hash.split('?');
  if (q !== undefined) {
    const p = new URLSearchParams(q);
    for (const k of OAUTH_PARAMS) p.delete(k);
    const rest = p.toString();
    u.hash = rest ? `${path}?${rest}` : path;
  }
  return u.toString();
}

/**
 * Authorize URL in the parameter order WeChat insists on (appid, redirect_uri, response_type,
 * scope, state) plus `#wechat_redirect`; `base` may already carry the appid or scope.
 */
export function buildAuthorizeUrl(base, { appId, redirectUri, state, scope = 'snsapi_base' }) {
  const u = new URL(base.split('#')[0]);
  const given = new URLSearchParams(u.search);
  const ordered = new URLSearchParams();
  const appid = given.get('appid') || appId;
  if (appid) ordered.set('appid', appid);
  ordered.set('redirect_uri', redirectUri);
  ordered.set('response_type', 'code');
  ordered.set('scope', given.get('scope') || scope);
  ordered.set('state', state);
  for (const [k, v] of given) if (!ordered.has(k)) ordered.append(k, v);
  u.search = ordered.toString();
  return `${u.toString()}#wechat_redirect`;
}

function ss() {
  try {
    return sessionStorage;
  } catch {
    return null;
  }
}

async function redirectToAuthorize(cleanHref) {
  const store = ss();
  const tries = Number(store?.getItem(TRIES_KEY) || 0);
  // Guards against a redirect loop when the code exchange keeps failing.
  if (tries >= 2) return { status: 'error', message: '微信授权失败，请关闭页面后重新打开' };
  const cfg = await getH5Config();
  if (!cfg.oauthAuthorizeUrl) return { status: 'error', message: '微信授权暂不可用' };
  // Issued, signed and bound to this browser (HttpOnly cookie) by the server, which accepts it once.
  let state;
  try {
    state = (await getWechatState()).state;
  } catch (e) {
    return { status: 'error', message: e.message || '微信授权暂不可用' };
  }
  store?.setItem(STATE_KEY, state);
  store?.setItem(TRIES_KEY, String(tries + 1));
  location.replace(buildAuthorizeUrl(cfg.oauthAuthorizeUrl, { appId: cfg.wechatAppId, redirectUri: cleanHref, state }));
  return { status: 'redirecting' };
}

/**
 * Inside WeChat: a session with an openid (for JSAPI pay), from storage, from the `code` WeChat just
 * sent back, or by redirecting to the authorize page. Attribution survives because it is in
 * localStorage and the redirect_uri keeps the page's own query.
 */
export async function ensureWechatSession() {
  const href = location.href;
  const params = oauthParams(href);
  const cleanHref = stripOAuthParams(href);
  if (params) history.replaceState(history.state, '', cleanHref);
  const existing = getSession();
  if (existing && existing.openid) return { status: 'ok', session: existing };
  if (!params) return redirectToAuthorize(cleanHref);

  const store = ss();
  const expected = store?.getItem(STATE_KEY);
  if (expected && params.state !== expected) return redirectToAuthorize(cleanHref);
  try {
    const r = await wechatLogin(params.code, params.state || undefined);
    saveSession({ sessionToken: r.sessionToken, openid: r.openid, expiresAt: r.expiresAt });
    store?.removeItem(STATE_KEY);
    store?.removeItem(TRIES_KEY);
    return { status: 'ok', session: getSession() };
  } catch (e) {
    // invalid-code (used or expired) and invalid-state (another browser's link, replayed, expired): start again.
    if (e.status === 400) return redirectToAuthorize(cleanHref);
    return { status: 'error', message: e.message || '微信登录失败' };
  }
}

const RENEW_KEY = 'dmh.oauth.renewedAt';
const RENEW_GAP_MS = 60_000;

/**
 * A WeChat session made before its user registered carries no participant (the API answers 403 on
 * /me/...): sign in with WeChat again, at most once a minute, so the new session names the participant.
 * → ensureWechatSession's answer, or `{status: 'error'}` when it was just tried.
 */
export async function renewWechatSession(now = Date.now()) {
  const store = ss();
  const last = Number(store?.getItem(RENEW_KEY) || 0);
  if (now - last < RENEW_GAP_MS) return { status: 'error', message: '' };
  store?.setItem(RENEW_KEY, String(now));
  clearSession();
  return ensureWechatSession();
}

/** WeixinJSBridge from WeChat itself, or (locally) from the simulator's shim script. */
export function loadBridge(shimUrl, timeoutMs = 8000) {
  if (typeof window !== 'undefined' && window.WeixinJSBridge) return Promise.resolve(window.WeixinJSBridge);
  return new Promise((resolve, reject) => {
    let timer;
    const done = () => {
      if (!window.WeixinJSBridge) return;
      clearTimeout(timer);
      document.removeEventListener('WeixinJSBridgeReady', done);
      resolve(window.WeixinJSBridge);
    };
    document.addEventListener('WeixinJSBridgeReady', done, false);
    if (shimUrl && !document.querySelector('script[data-dmh-bridge]')) {
      const s = document.createElement('script');
      s.src = shimUrl;
      s.dataset.dmhBridge = '1';
      s.onload = done;
      s.onerror = () => reject(new Error('微信支付组件加载失败'));
      document.head.appendChild(s);
    }
    timer = setTimeout(() => reject(new Error('微信支付组件加载超时，请重试')), timeoutMs);
  });
}

/** `'ok' | 'cancel' | 'fail'`; "ok" is no proof of payment, only the backend's state is. */
export function invokeJsapiPay(bridge, params) {
  return new Promise((resolve) => {
    bridge.invoke('getBrandWCPayRequest', params, (res) => {
      const m = String((res && res.err_msg) || '');
      resolve(m.endsWith(':ok') ? 'ok' : m.endsWith(':cancel') ? 'cancel' : 'fail');
    });
  });
}
