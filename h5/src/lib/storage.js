// localStorage can throw (Safari private mode, storage full, disabled cookies): never let it break the page.
function backend(store) {
  if (store) return store;
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null;
  }
}

export function readJson(key, store) {
  const s = backend(store);
  if (!s) return null;
  try {
    const raw = s.getItem(key);
    return raw == null ? null : JSON.parse(raw);
  } catch {
    return null;
  }
}

export function writeJson(key, value, store) {
  const s = backend(store);
  if (!s) return;
  try {
    s.setItem(key, JSON.stringify(value));
  } catch {
    /* quota or disabled storage: attribution is best effort */
  }
}

export function remove(key, store) {
  const s = backend(store);
  if (!s) return;
  try {
    s.removeItem(key);
  } catch {
    /* ignore */
  }
}
