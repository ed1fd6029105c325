import { http, request } from './http.js';

const base = '/api/v1/funnel';

export const getFunnel = ({ campaignId, from, to, interval } = {}) => http.get(base, { campaignId, from, to, interval });
/** Today's visitors and paid orders per campaign: `{ date, campaigns: [{ campaignId, visitors, paid }] }`. */
export const getFunnelToday = () => http.get(`${base}/today`);

/** Downloads the CSV with the bearer token (a plain link could not send it). */
export async function exportFunnelCsv(filters = {}) {
  const res = await request(`${base}/export`, { query: filters, raw: true, headers: { Accept: 'text/csv' } });
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') || '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  return { blob, filename: m ? decodeURIComponent(m[1]) : 'funnel.csv' };
}
