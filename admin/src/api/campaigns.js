import { http } from './http.js';

const base = '/api/v1/campaigns';

export const listCampaigns = ({ page = 1, pageSize = 20, q, status } = {}) => http.get(base, { page, pageSize, q, status });
export const getCampaign = (id) => http.get(`${base}/${id}`);
export const createCampaign = (body) => http.post(base, body);
export const updateCampaign = (id, body) => http.put(`${base}/${id}`, body);
export const deleteCampaign = (id) => http.del(`${base}/${id}`);
export const publishCampaign = (id) => http.post(`${base}/${id}/publish`);
export const disableCampaign = (id) => http.post(`${base}/${id}/disable`);
