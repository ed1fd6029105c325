import { http } from './http.js';

export const listAuditLog = (query = {}) => http.get('/api/v1/audit-log', query);
export const listAuditActions = () => http.get('/api/v1/audit-log/actions');
