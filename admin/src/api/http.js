import { session } from '../session.js';

/** An HTTP failure. `errors` holds RFC 7807 validation messages per request field. */
export class ApiError extends Error {
  constructor({ status, title, detail, type, errors, body }) {
    super(detail || title || `请求失败（HTTP ${status}）`);
    this.name = 'ApiError';
    this.status = status;
    this.title = title || '';
    this.type = type || '';
    this.errors = errors || {};
    this.body = body || null;
  }
}

let onUnauthorized = () => {};

/** Called on a 401 for an authenticated request (the app sends the user to sign-in). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function buildQuery(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// ASP.NET may spell keys "Reward.AmountFen"; the form items use the request spelling "reward.amountFen".
export function normalizeErrors(errors) {
  const out = {};
  if (!errors || typeof errors !== 'object') return out;
  for (const [key, value] of Object.entries(errors)) {
    const parts = key.replace(/^\$\./, '').split('.');
    const first = lowerFirst(parts[0]);
    // keys below formData are the campaign's own form keys: keep their case
    const k = [first, ...parts.slice(1).map((p) => (first === 'formData' ? p : lowerFirst(p)))].join('.');
    const list = Array.isArray(value) ? value.map(String) : [String(value)];
    out[k] = (out[k] || []).concat(list);
  }
  return out;
}

function lowerFirst(s) {
  return s ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}

async function toError(res) {
  let body = null;
  const ct = res.headers.get('content-type') || '';
  try {
    if (ct.includes('json')) body = await res.json();
    else {
      const text = await res.text();
      if (text) body = { detail: text.slice(0, 300) };
    }
  } catch {
    body = null;
  }
  // One message for every refusal of the role (issue 20): the server's English title would mean nothing to an operator.
  if (res.status === 403) return new ApiError({ status: 403, detail: FORBIDDEN, type: body?.type, body });
  return new ApiError({
    status: res.status,
    title: body?.title,
    detail: body?.detail || (body?.title ? undefined : statusText(res.status)),
    type: body?.type,
    errors: normalizeErrors(body?.errors),
    body,
  });
}

export const FORBIDDEN = '无权限执行此操作，请联系管理员';

function statusText(status) {
  if (status === 401) return '登录已失效，请重新登录';
  if (status === 404) return '数据不存在或已删除';
  if (status === 429) return '操作太频繁，请稍后再试';
  if (status >= 500) return '服务器出错，请稍后再试';
  return `请求失败（HTTP ${status}）`;
}

/**
 * fetch wrapper: JSON in/out, bearer token, problem+json → ApiError, 401 → sign-in.
 * options: method, query, body (object → JSON, FormData as is), auth (default true), raw (return the Response).
 */
export async function request(path, { method = 'GET', query, body, auth = true, raw = false, headers = {} } = {}) {
  const h = { Accept: 'application/json, application/problem+json', ...headers };
  if (auth && session.token) h.Authorization = `Bearer ${session.token}`;
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path + buildQuery(query), { method, headers: h, body: payload });
  } catch (e) {
    throw new ApiError({ status: 0, detail: '网络错误，无法连接服务器' });
  }
  if (res.status === 401 && auth) {
    const err = await toError(res);
    onUnauthorized();
    throw err;
  }
  if (!res.ok) throw await toError(res);
  if (raw) return res;
  if (res.status === 204) return null;
  const ct = res.headers.get('content-type') || '';
  if (!ct.includes('json')) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const http = {
  get: (path, query) => request(path, { query }),
  post: (path, body, opts) => request(path, { method: 'POST', body, ...opts }),
  put: (path, body) => request(path, { method: 'PUT', body }),
  del: (path) => request(path, { method: 'DELETE' }),
};
