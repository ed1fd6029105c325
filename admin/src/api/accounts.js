import { http } from './http.js';

const base = '/api/v1/admin-users';

export const listAccounts = () => http.get(base);
export const createAccount = ({ username, password, role }) => http.post(base, { username, password, role });
export const disableAccount = (id) => http.post(`${base}/${id}/disable`);
export const changeRole = (id, role) => http.put(`${base}/${id}/role`, { role });
