import { request } from './http.js';

/** 我的报名: `{items: [{orderId, campaignName, status, payStatus, amountFen, registrationCode, orderToken, …}]}`. */
export async function getMyRegistrations(sessionToken) {
  return (await request('GET', '/api/v1/me/registrations', { sessionToken })).data;
}
