import { http, request } from './http.js';

// 提现审核 (issue 18, docs/API.md "Withdrawals").
const base = '/api/v1/withdrawals';

/** `{items, total, page, pageSize, pendingCount, pendingFen}`; filters status, userId, phone, from, to. */
export const listWithdrawals = (filters = {}) => http.get(base, filters);
/** Manual mode → `approved`; wechat mode → creates the transfer bill → `transferring`. `needsAdmin` items: admin only. */
export const approveWithdrawal = (id) => http.post(`${base}/${id}/approve`);
/** `reason` 1..200 → `rejected`, the hold goes back to available. */
export const rejectWithdrawal = (id, reason) => http.post(`${base}/${id}/reject`, { reason });
/** Manual mode, status approved: the payout made outside DMH → `paid`. */
export const recordPayout = (id, { reference, paidAt }) => http.post(`${base}/${id}/payout`, { reference, ...(paidAt ? { paidAt } : {}) });

/** Downloads the CSV with the bearer token (a plain link could not send it). */
export async function exportWithdrawalsCsv(filters = {}) {
  const res = await request(`${base}/export`, { query: filters, raw: true, headers: { Accept: 'text/csv' } });
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') || '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  return { blob, filename: m ? decodeURIComponent(m[1]) : `withdrawals-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}.csv` };
}
