import { http } from './http.js';

export const listReferrers = ({ page = 1, pageSize = 20 } = {}) => http.get('/api/v1/rewards', { page, pageSize });
export const getBalance = (userId) => http.get(`/api/v1/rewards/balance/${userId}`);
export const listRewardRecords = (userId, { page = 1, pageSize = 20 } = {}) => http.get(`/api/v1/rewards/${userId}`, { page, pageSize });
