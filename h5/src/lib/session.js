import { readJson, writeJson, remove } from './storage.js';

const SESSION_KEY = 'dmh.session';
const orderKey = (orderId) => `dmh.order.${orderId}`;
const lastOrderKey = (campaignId) => `dmh.lastOrder.${campaignId}`;
const LAST_CAMPAIGN_KEY = 'dmh.lastCampaign';

/** H5 session from POST /auth/wechat or /auth/sms/login: `{sessionToken, expiresAt, openid?, participantId?}`. */
export function getSession(store, now = Date.now()) {
  const s = readJson(SESSION_KEY, store);
  if (!s || !s.sessionToken) return null;
  if (s.expiresAt && Date.parse(s.expiresAt) <= now) {
    remove(SESSION_KEY, store);
    return null;
  }
  return s;
}

export function saveSession(session, store) {
  const prev = readJson(SESSION_KEY, store) || {};
  // An SMS login does not return the openid: keep one a WeChat login gave earlier.
  writeJson(SESSION_KEY, { ...session, openid: session.openid || prev.openid || null }, store);
}

export function clearSession(store) {
  remove(SESSION_KEY, store);
}

/** The order's X-Order-Token (returned only when the order is created or reused). */
export function saveOrderToken(orderId, token, campaignId, store) {
  writeJson(orderKey(orderId), { token, campaignId, savedAt: Date.now() }, store);
  if (campaignId != null) writeJson(lastOrderKey(campaignId), orderId, store);
}

export function getOrderToken(orderId, store) {
  const v = readJson(orderKey(orderId), store);
  return v && v.token ? v.token : null;
}

export function getLastOrderId(campaignId, store) {
  return readJson(lastOrderKey(campaignId), store);
}

/**
 * The token of this browser's last order in the campaign: sent with a repeat registration as proof
 * that this browser made it (the server ignores a token of another phone's order).
 */
export function getCampaignOrderToken(campaignId, store) {
  const orderId = getLastOrderId(campaignId, store);
  return orderId == null ? null : getOrderToken(orderId, store);
}

export function setLastCampaign(campaignId, store) {
  writeJson(LAST_CAMPAIGN_KEY, campaignId, store);
}

export function getLastCampaign(store) {
  return readJson(LAST_CAMPAIGN_KEY, store);
}
