import { request } from './http.js';

/**
 * 201 new / 200 existing unpaid order: `{ status, data: registrant view + accessToken }`. A repeat
 * registration proves the registrant with the order's token, `body.smsCode` or the H5 session;
 * without proof: 409 `registration-exists`.
 */
export function createOrder(body, { orderToken, sessionToken } = {}) {
  return request('POST', '/api/v1/orders', { body, orderToken, sessionToken });
}

export async function getOrder(id, orderToken) {
  return (await request('GET', `/api/v1/orders/${id}`, { orderToken })).data;
}

/** `{channel: 'jsapi'|'h5'}` → `{outTradeNo, jsapi?, h5Url?}`; JSAPI pays as the WeChat session's openid. */
export async function payOrder(id, orderToken, body, sessionToken) {
  return (await request('POST', `/api/v1/orders/${id}/pay`, { orderToken, body, sessionToken })).data;
}

/** Asks the backend to query the provider now; answers the registrant view. */
export async function paymentCallback(id, orderToken) {
  return (await request('POST', '/api/v1/orders/payment/callback', { orderToken, body: { orderId: id } })).data;
}
