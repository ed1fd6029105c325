/** Thin fetch wrapper for the Ingress API (same origin; /h5/ is served by Dmh.Ingress). */
const API_BASE = (import.meta.env && import.meta.env.VITE_API_BASE) || '';
const TIMEOUT_MS = 15000;

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.type = this.problem.type || '';
    this.errors = this.problem.errors || null;
  }

  /** True when the problem `type` names `code` (absolute URI or bare slug). */
  is(code) {
    const t = String(this.type || '');
    return t === code || t.endsWith(`/${code}`) || t.endsWith(`#${code}`);
  }
}

export async function request(method, path, { body, orderToken, sessionToken, as = 'json' } = {}) {
  const headers = { Accept: as === 'blob' ? 'image/png' : 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (orderToken) headers['X-Order-Token'] = orderToken;
  if (sessionToken) headers.Authorization = `Bearer ${sessionToken}`;
  const ctrl = typeof AbortController !== 'undefined' ? new AbortController() : null;
  const timer = ctrl && setTimeout(() => ctrl.abort(), TIMEOUT_MS);
  let res;
  try {
    res = await fetch(API_BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl?.signal,
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError(0, { title: '网络异常，请检查网络后重试', detail: '网络异常，请检查网络后重试' });
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (!res.ok) {
    let problem = null;
    try {
      problem = await res.json();
    } catch {
      /* not a problem document */
    }
    throw new ApiError(res.status, problem);
  }
  if (res.status === 204) return { status: 204, data: null };
  const data = as === 'blob' ? await res.blob() : await res.json().catch(() => null);
  return { status: res.status, data };
}
