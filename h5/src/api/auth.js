import { request } from './http.js';

export function sendSmsCode(campaignId, phone) {
  return request('POST', '/api/v1/auth/sms/send', { body: { campaignId, phone } });
}

export async function smsLogin(phone, code) {
  return (await request('POST', '/api/v1/auth/sms/login', { body: { phone, code } })).data;
}

/**
 * `{state, expiresAt}` for the authorize URL. The server also sets an HttpOnly cookie binding the state
 * to this browser; `/auth/wechat` accepts it once, in this browser only (login CSRF).
 */
export async function getWechatState() {
  return (await request('GET', '/api/v1/auth/wechat/state')).data;
}

export async function wechatLogin(code, state) {
  return (await request('POST', '/api/v1/auth/wechat', { body: { code, state } })).data;
}
