import { http } from './http.js';
import { downloadExport } from './download.js';

const base = '/api/v1/rewards';

/** Referrers with their balance (frozen / available / total, fen) and name. */
export const listReferrers = ({ page = 1, pageSize = 20, phone } = {}) => http.get(base, { page, pageSize, ...(phone ? { phone } : {}) });
/** Reward records, newest first; filters campaignId, status (frozen|available|reversed), userId. */
export const listRewardRecords = ({ campaignId, status, userId, page = 1, pageSize = 20 } = {}) =>
  http.get(`${base}/records`, { campaignId, status, userId, page, pageSize });
/** `{balance, items, total}`: the participant's balance and ledger rows, newest first. */
export const getLedger = (userId, { page = 1, pageSize = 20 } = {}) => http.get(`${base}/${userId}/ledger`, { page, pageSize });
/** Admin role only: moves `available` by ±amountFen with a reason → `{entry, balance}`. */
export const adjustBalance = (userId, { amountFen, reason }) => http.post(`${base}/${userId}/adjustments`, { amountFen, reason });

/** The reward records of the same filters as Excel. */
export const exportRewardRecordsXlsx = ({ campaignId, status, userId } = {}) =>
  downloadExport(`${base}/records/export.xlsx`, { campaignId, status, userId }, 'rewards.xlsx');
