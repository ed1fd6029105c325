import { http, request } from './http.js';
import { downloadExport } from './download.js';

const base = '/api/v1/check-ins';

export const lookupCode = (code) => http.get(`${base}/lookup`, { code });
/** method: 'typed' | 'scan'. A 409 `already-checked-in` carries the registration (with its check-in) in `err.body.registration`. */
export const checkIn = (code, method) => request(base, { method: 'POST', body: { code, method } });
export const undoCheckIn = (id, reason) => http.post(`${base}/${id}/undo`, { reason });
export const listCheckIns = (query = {}) => http.get(base, query);
export const checkInSummary = (campaignId) => http.get(`${base}/summary`, { campaignId });

export async function exportCheckInsCsv(campaignId) {
  const res = await request(`${base}/export.csv`, { query: { campaignId }, raw: true, headers: { Accept: 'text/csv' } });
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') || '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  return { blob, filename: m ? decodeURIComponent(m[1]) : 'check-ins.csv' };
}

export const exportCheckInsXlsx = (campaignId) => downloadExport(`${base}/export.xlsx`, { campaignId }, 'check-ins.xlsx');

/** The code inside a scanned QR: the success page encodes the bare code; a link or "DMH:" prefix is tolerated. */
export function codeFromScan(text) {
  const s = String(text || '').trim();
  const m = /([A-Za-z0-9]{4,16})\s*$/.exec(s);
  return m ? m[1].toUpperCase() : '';
}
