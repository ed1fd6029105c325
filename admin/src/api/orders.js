import { http, request, buildQuery } from './http.js';
import { downloadExport } from './download.js';

const base = '/api/v1/orders';

export const listOrders = (filters = {}) => http.get(base, filters);
/** The API nests the admin view under `order` beside its payments, rewards and sync entries; the drawer reads one object. */
export async function getOrderDetail(id) {
  const { order, payments, rewards, sync, refunds, refundableFen } = await http.get(`${base}/${id}/detail`);
  return { ...order, payments, rewards, sync, refunds: refunds || [], refundableFen: refundableFen ?? order?.refundableFen ?? null };
}
export const closeOrder = (id) => http.post(`${base}/${id}/close`);
/** A new partial or full refund each call → `{outRefundNo, refundId, status, amountFen}`. */
export const refundOrder = (id, { amountFen, reason }) => http.post(`${base}/${id}/refund`, { amountFen, reason });

/** Downloads the CSV with the bearer token (a plain link could not send it). */
export async function exportOrdersCsv(filters = {}) {
  const res = await request(`${base}/export.csv`, { query: filters, raw: true, headers: { Accept: 'text/csv' } });
  const blob = await res.blob();
  const cd = res.headers.get('content-disposition') || '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  return { blob, filename: m ? decodeURIComponent(m[1]) : `orders-${new Date().toISOString().slice(0, 10)}.csv` };
}

/** The Excel export of the same filters: Beijing time, one column per form field, Chinese statuses. */
export const exportOrdersXlsx = (filters = {}) => downloadExport(`${base}/export.xlsx`, filters, 'orders.xlsx');

export const exportUrl = (filters = {}) => `${base}/export.csv${buildQuery(filters)}`;
