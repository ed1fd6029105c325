import { http } from './http.js';

export const getSyncSummary = () => http.get('/api/v1/sync/summary');
export const listFailed = ({ page = 1, pageSize = 20 } = {}) => http.get('/api/v1/sync/failed', { page, pageSize });
export const getOrderSync = (orderId) => http.get(`/api/v1/sync/status/${orderId}`);
export const retryOrder = (orderId) => http.post(`/api/v1/sync/retry/${orderId}`);
export const retryAllFailed = () => http.post('/api/v1/sync/retry-failed');
export const listDeadLetters = ({ page = 1, replayed } = {}) => http.get('/api/v1/dead-letters', { page, replayed });
/** Re-publishes the entry's envelope onto its stream → 202 `{id, stream, entryId}`; 409 once replayed. */
export const replayDeadLetter = (id) => http.post(`/api/v1/dead-letters/${id}/replay`);
