import { request } from './http.js';

/** `{templateId, canSubscribe, available}` for the signed-in participant. */
export async function getNoticeSubscription(sessionToken) {
  return (await request('GET', '/api/v1/me/notice-subscription', { sessionToken })).data;
}

/** Records one accepted consent (the open tag answered "accept"). */
export async function acceptNotice(sessionToken, templateId) {
  return (await request('POST', '/api/v1/me/notice-subscription', { sessionToken, body: { templateId } })).data;
}
