import { request } from './http.js'

export function sendSmsCode(campaignId, phone) {
  return request('POST', '/api/v1/auth/sms/send', { body: { campaignId, phone } })
}

export async function smsLogin(phone, code) {
  return (await request('POST', '/api/v1/auth/sms/login', { body: { phone, code } })).data
}

export async function wechatLogin(code, state) {
  return (await request('POST', '/api/v1/auth/wechat', { body: { code, state } })).data
}
