import { http } from './http.js';

export const getOverview = ({ campaignId, from, to } = {}) => http.get('/api/v1/stats/overview', { campaignId, from, to });
