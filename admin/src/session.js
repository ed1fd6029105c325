import { reactive, computed } from 'vue';

const KEY = 'dmh.admin.session';

function load() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (s && s.token && (!s.expiresAt || Date.parse(s.expiresAt) > Date.now())) return s;
  } catch {
    /* ignore a corrupt entry */
  }
  return { token: '', expiresAt: '', user: null };
}

/** The signed-in admin: token, expiry and `{id, username, role}`; kept in localStorage. */
export const session = reactive(typeof localStorage === 'undefined' ? { token: '', expiresAt: '', user: null } : load());

export function saveSession({ token, expiresAt, user }) {
  session.token = token;
  session.expiresAt = expiresAt || '';
  session.user = user || null;
  localStorage.setItem(KEY, JSON.stringify({ token, expiresAt, user }));
}

export function setUser(user) {
  session.user = user;
  localStorage.setItem(KEY, JSON.stringify({ token: session.token, expiresAt: session.expiresAt, user }));
}

export function clearSession() {
  session.token = '';
  session.expiresAt = '';
  session.user = null;
  localStorage.removeItem(KEY);
}

export const ROLE_LABELS = { admin: '管理员', operator: '运营', viewer: '只读', staff: '核销员' };

// docs/API.md: admin everything; operator campaigns, orders, sync, withdrawals (not the large ones);
// viewer read only.
// staff (核销员) only checks registrations in on site.
const WRITE = {
  admin: ['campaigns', 'orders', 'sync', 'rewards', 'withdrawals', 'check-in'],
  operator: ['campaigns', 'orders', 'sync', 'withdrawals', 'check-in'],
  viewer: [],
  staff: ['check-in'],
};

export function canWrite(resource, role = session.user?.role) {
  return (WRITE[role] || []).includes(resource);
}

export const role = computed(() => session.user?.role || '');
