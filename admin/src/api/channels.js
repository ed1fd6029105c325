import { http } from './http.js';

const base = '/api/v1/channels';

export const listChannels = () => http.get(base);
export const createChannel = (body) => http.post(base, body);
export const updateChannel = (id, body) => http.put(`${base}/${id}`, body);
export const deleteChannel = (id) => http.del(`${base}/${id}`);
/** The campaign's link for every channel: `[{ channelId, code, name, url }]`. */
export const channelLinks = (campaignId) => http.get(`${base}/links`, { campaignId });

/** The campaign's H5 link with `c_id` set (or removed for no channel). */
export function linkWithChannel(h5Url, code) {
  if (!h5Url) return '';
  const [base, query = ''] = h5Url.split('?');
  const q = new URLSearchParams(query);
  if (code) q.set('c_id', code);
  else q.delete('c_id');
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}
