import { getCampaignForm } from '../api/campaigns.js';

/**
 * The campaign form, from the request index.html started before the app's JS arrived (on a 150 ms
 * RTT network that takes the API call off the critical path), or a fresh request. A failed
 * prefetch is repeated through the API module so the page gets a proper ApiError.
 */
export function takePrefetchedForm(id, preview = '') {
  const p = typeof window !== 'undefined' ? window.__dmhFormPrefetch : null;
  if (!p || p.id !== String(id) || (p.preview || '') !== (preview || '')) return getCampaignForm(id, preview);
  window.__dmhFormPrefetch = null;
  return p.promise.then(
    (res) => (res.ok ? res.json() : getCampaignForm(id, preview)),
    () => getCampaignForm(id, preview),
  );
}
