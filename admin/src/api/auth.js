import { request } from './http.js';

export const login = (username, password) =>
  request('/api/v1/auth/admin/login', { method: 'POST', body: { username, password }, auth: false });

export const me = () => request('/api/v1/auth/admin/me');
