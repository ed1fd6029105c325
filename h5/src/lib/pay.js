import { payOrder, getOrder, paymentCallback } from '../api/orders.js';
import { getH5Config } from '../api/h5config.js';
import { loadBridge, invokeJsapiPay } from './wechat.js';

export function appBaseHref(loc = location) {
  return `${loc.origin}${loc.pathname}`;
}

export function successHref(orderId, campaignId, loc = location) {
  const q = new URLSearchParams({ orderId: String(orderId), id: String(campaignId) });
  return `${appBaseHref(loc)}#/pages/success/index?${q}`;
}

/** H5 pay's page returns to `redirect_url` after paying (it gives no success callback). */
export function withRedirect(h5Url, returnHref) {
  return `${h5Url}${h5Url.includes('?') ? '&' : '?'}redirect_url=${encodeURIComponent(returnHref)}`;
}

/**
 * One payment attempt. WeChat: JSAPI through WeixinJSBridge → `{kind:'jsapi', result}`.
 * Elsewhere: H5 pay, leaving the page for the provider's `h5Url` → `{kind:'redirect'}`.
 */
export async function startPayment({ orderId, orderToken, campaignId, env, sessionToken }) {
  if (env === 'wechat') {
    const [r, cfg] = await Promise.all([
      payOrder(orderId, orderToken, { channel: 'jsapi' }, sessionToken),
      getH5Config().catch(() => ({})),
    ]);
    if (!r || !r.jsapi) throw new Error('支付参数缺失，请重试');
    const bridge = await loadBridge(cfg.jsBridgeShimUrl);
    return { kind: 'jsapi', result: await invokeJsapiPay(bridge, r.jsapi) };
  }
  const r = await payOrder(orderId, orderToken, { channel: 'h5' });
  if (!r || !r.h5Url) throw new Error('支付链接缺失，请重试');
  location.href = withRedirect(r.h5Url, successHref(orderId, campaignId));
  return { kind: 'redirect' };
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Polls the order until the backend says paid: GET every tick, and every other tick
 * POST /orders/payment/callback so the backend asks the provider (a notify may lag or be lost).
 */
export async function waitUntilPaid(orderId, orderToken, { tries = 20, intervalMs = 1500, signal, api } = {}) {
  const get = api?.getOrder || getOrder;
  const callback = api?.paymentCallback || paymentCallback;
  let last = null;
  for (let i = 0; i < tries && !signal?.aborted; i++) {
    try {
      last = await get(orderId, orderToken);
      if (last?.status === 'paid' || last?.status === 'refunded') return last;
      if (i % 2 === 0) {
        last = await callback(orderId, orderToken);
        if (last?.status === 'paid') return last;
      }
    } catch (e) {
      if (e.status === 401 || e.status === 403 || e.status === 404) throw e;
    }
    if (i < tries - 1) await sleep(intervalMs, signal);
  }
  return last;
}
