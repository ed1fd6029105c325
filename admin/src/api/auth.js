import { request } from './http.js';

export const login = (username, password) =>
  request('/api/v1/auth/admin/login', { method: 'POST', body: { username, password }, auth: false });

export const me = () => request('/api/v1/auth/admin/me');

/** Own password (any role): 204, and every session of the account ends (sign in again). */
export const changePassword = (currentPassword, newPassword) =>
  request('/api/v1/auth/admin/password', { method: 'PUT', body: { currentPassword, newPassword } });
