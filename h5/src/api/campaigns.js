import { request } from './http.js';

/** `preview`: the signed token of an admin's phone-preview link (shows a draft without publishing it). */
export async function getCampaignForm(id, preview = '') {
  const q = preview ? `?preview=${encodeURIComponent(preview)}` : '';
  return (await request('GET', `/api/v1/campaigns/${encodeURIComponent(id)}/form${q}`)).data;
}

/** `{name}`: who invited the visitor (masked name from the referrer's own form, null when they gave none). */
export async function getReferrer(campaignId, code) {
  return (await request('GET', `/api/v1/campaigns/${encodeURIComponent(campaignId)}/referrer/${encodeURIComponent(code)}`)).data;
}
