import { readJson, writeJson } from './storage.js';
import { readAttribution } from './attribution.js';

// Visit tracking (POST /api/v1/track): the page's view, form start, submit and pay start, batched and
// sent after a short pause, or with sendBeacon when the page is hidden or left. An anonymous random
// visitor id, no phone or other personal data. A batch that failed is sent again with the same id:
// the server counts a batch id once. Tracking never breaks the page: every failure is swallowed.

const ENDPOINT = '/api/v1/track';
const VISITOR_KEY = 'dmh.visitor';
const FLUSH_DELAY_MS = 2000;
const MAX_EVENTS = 50;

function randomId(n = 16) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(n);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < n; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** The visitor id kept in localStorage (a fresh one per page load where storage is unavailable). */
export function visitorId(store) {
  const kept = readJson(VISITOR_KEY, store);
  if (typeof kept === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(kept)) return kept;
  const id = randomId();
  writeJson(VISITOR_KEY, id, store);
  return id;
}

/**
 * A tracker. `transport.post(body)` resolves when the server took the batch; `transport.beacon(body)`
 * hands it to the browser on leave. Both default to fetch (keepalive) and navigator.sendBeacon.
 */
export function createTracker({ store, transport = defaultTransport(), delay = FLUSH_DELAY_MS, schedule = setTimeout } = {}) {
  const queues = new Map(); // campaignId → { events, once }
  const retry = []; // batches that failed, sent again as they were
  let timer = null;
  const visitor = () => visitorId(store);

  function batches() {
    const out = retry.splice(0);
    for (const [campaignId, q] of queues) {
      while (q.events.length) {
        const { cId, uId } = readAttribution(campaignId, store);
        out.push({
          batchId: randomId(),
          visitorId: visitor(),
          campaignId: Number(campaignId),
          channel: cId || '',
          referrer: uId && uId.length <= 16 ? uId : '',
          events: q.events.splice(0, MAX_EVENTS).map((type) => ({ type })),
        });
      }
    }
    return out;
  }

  async function flush() {
    timer = null;
    for (const body of batches()) {
      try {
        await transport.post(body);
      } catch {
        if (retry.length < 20) retry.push(body);
      }
    }
  }

  /** On leave: everything still queued goes with sendBeacon (fetch may be cut off). */
  function flushOnLeave() {
    for (const body of batches()) {
      try {
        if (!transport.beacon(body)) retry.push(body);
      } catch {
        /* best effort */
      }
    }
  }

  /** Queues an event of the campaign's page; `once` events (form_start) are counted once per page load. */
  function track(type, campaignId, { once = false } = {}) {
    if (campaignId == null || !/^\d+$/.test(String(campaignId))) return;
    const key = String(campaignId);
    const q = queues.get(key) || { events: [], once: new Set() };
    queues.set(key, q);
    if (once) {
      if (q.once.has(type)) return;
      q.once.add(type);
    }
    q.events.push(type);
    if (!timer) timer = schedule(flush, delay);
  }

  return { track, flush, flushOnLeave };
}

function defaultTransport() {
  return {
    post: async (body) => {
      const res = await fetch(ENDPOINT, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        keepalive: true,
        credentials: 'same-origin',
      });
      // A refused batch (400, 429) is not sent again; a network or server failure is.
      if (res.status >= 500) throw new Error(`track ${res.status}`);
    },
    beacon: (body) =>
      typeof navigator !== 'undefined' && navigator.sendBeacon
        ? navigator.sendBeacon(ENDPOINT, new Blob([JSON.stringify(body)], { type: 'application/json' }))
        : false,
  };
}

let shared = null;

function tracker() {
  if (shared) return shared;
  shared = createTracker();
  if (typeof document !== 'undefined') {
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && shared.flushOnLeave());
    window.addEventListener('pagehide', () => shared.flushOnLeave());
  }
  return shared;
}

/** The pages' one call: `track('view', campaignId)`; kinds: view, form_start, submit, pay_start. */
export function track(type, campaignId, options) {
  try {
    tracker().track(type, campaignId, options);
  } catch {
    /* tracking never breaks the page */
  }
}
