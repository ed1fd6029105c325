import { http } from './http.js';

const base = '/api/v1/campaigns';

export const listCampaigns = ({ page = 1, pageSize = 20, q, status, approval } = {}) =>
  http.get(base, { page, pageSize, q, status, approval });
export const getCampaign = (id) => http.get(`${base}/${id}`);
export const createCampaign = (body) => http.post(base, body);
export const updateCampaign = (id, body) => http.put(`${base}/${id}`, body);
export const deleteCampaign = (id) => http.del(`${base}/${id}`);
export const publishCampaign = (id) => http.post(`${base}/${id}/publish`);
export const disableCampaign = (id) => http.post(`${base}/${id}/disable`);
/** `{url, expiresAt}`: a signed link that shows the campaign (a draft too) on a phone without publishing it. */
export const createPreviewLink = (id) => http.post(`${base}/${id}/preview-link`);
/** `{requireApproval}`: whether campaigns go live through approval on this deployment (Campaigns:RequireApproval). */
export const getCampaignSettings = () => http.get(`${base}/settings`);
export const submitCampaign = (id) => http.post(`${base}/${id}/submit`);
export const approveCampaign = (id) => http.post(`${base}/${id}/approve`);
export const rejectCampaign = (id, reason) => http.post(`${base}/${id}/reject`, { reason });
/** How many campaigns wait for an admin's decision (0 when approval is off). */
export const countPendingApproval = async () => (await listCampaigns({ approval: 'pending', pageSize: 1 }))?.total || 0;
