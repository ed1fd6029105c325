import { readJson, writeJson } from './storage.js';

// Channel ids and referral codes are opaque URL-safe strings (DECISIONS.md: referral codes ~10 chars).
const SAFE = /^[A-Za-z0-9_-]{1,64}$/;
export const ATTRIBUTION_TTL_MS = 30 * 24 * 3600 * 1000;

const keyFor = (campaignId) => `dmh.attr.${campaignId}`;

function clean(v) {
  if (Array.isArray(v)) v = v[0];
  if (v == null) return null;
  const s = String(v).trim();
  return SAFE.test(s) ? s : null;
}

/**
 * Keeps `c_id` / `u_id` from the landing URL per campaign, so they survive navigation inside the
 * app and the WeChat OAuth round trip. A value in the URL replaces the stored one; a missing one
 * keeps what was stored. Returns what the order should carry: `{ cId, uId }` (null when unknown).
 */
export function captureAttribution(campaignId, query = {}, store, now = Date.now()) {
  const stored = readAttribution(campaignId, store, now);
  const cId = clean(query.c_id) ?? stored.cId;
  const uId = clean(query.u_id) ?? stored.uId;
  if (campaignId != null && (cId || uId)) {
    writeJson(keyFor(campaignId), { cId, uId, savedAt: now }, store);
  }
  return { cId, uId };
}

export function readAttribution(campaignId, store, now = Date.now()) {
  const v = campaignId == null ? null : readJson(keyFor(campaignId), store);
  if (!v || typeof v !== 'object' || !(now - (v.savedAt || 0) < ATTRIBUTION_TTL_MS)) {
    return { cId: null, uId: null };
  }
  return { cId: clean(v.cId), uId: clean(v.uId) };
}
