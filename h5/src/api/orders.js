import { request } from './http.js'

/** 201 new / 200 existing unpaid order: `{ status, data: registrant view + accessToken }`. */
export function createOrder(body) {
  return request('POST', '/api/v1/orders', { body })
}

export async function getOrder(id, orderToken) {
  return (await request('GET', `/api/v1/orders/${id}`, { orderToken })).data
}

/** `{channel: 'jsapi'|'h5', openid?}` → `{outTradeNo, jsapi?, h5Url?}`. */
export async function payOrder(id, orderToken, body) {
  return (await request('POST', `/api/v1/orders/${id}/pay`, { orderToken, body })).data
}

/** Asks the backend to query the provider now; answers the registrant view. */
export async function paymentCallback(id, orderToken) {
  return (await request('POST', '/api/v1/orders/payment/callback', { orderToken, body: { orderId: id } })).data
}
