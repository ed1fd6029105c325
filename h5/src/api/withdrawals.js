import { request } from './http.js';

/**
 * 提现 (issue 18, docs/API.md "Withdrawals"): `{mode, availableFen, withdrawingFen, paidOutFen, canRequest,
 * blockedReason, limits, items}`, newest first.
 */
export async function getMyWithdrawals(sessionToken) {
  return (await request('GET', '/api/v1/me/withdrawals', { sessionToken })).data;
}

/** 201 → the new request; problems withdrawal-amount, withdrawal-open, negative-balance, insufficient-available, daily-limit, openid-required. */
export async function requestWithdrawal(sessionToken, amountFen) {
  return (await request('POST', '/api/v1/me/withdrawals', { sessionToken, body: { amountFen } })).data;
}

/** After WeChat's 确认收款 page answered ok: a hint that makes DMH query the bill now. */
export async function confirmedWithdrawal(sessionToken, id) {
  return (await request('POST', `/api/v1/me/withdrawals/${encodeURIComponent(id)}/confirmed`, { sessionToken })).data;
}
