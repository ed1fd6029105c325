import { http, request } from './http.js';

const base = (campaignId) => `/api/v1/campaigns/${campaignId}/poster`;

/** `{template, backgroundUrl, templates:[{slug, label, qrLeft, qrTop, qrSize, nameX, nameY}]}` */
export const getPosterSettings = (campaignId) => http.get(base(campaignId));
export const savePosterSettings = (campaignId, body) => http.put(base(campaignId), body);

/** The poster with these settings, a sample inviter and a sample code → an object URL (revoke it when done). */
export async function previewPoster(campaignId, body) {
  const res = await request(`${base(campaignId)}/preview`, { method: 'POST', body, raw: true, headers: { Accept: 'image/png' } });
  return URL.createObjectURL(await res.blob());
}
