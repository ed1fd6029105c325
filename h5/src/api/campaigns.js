import { request } from './http.js';

export async function getCampaignForm(id) {
  return (await request('GET', `/api/v1/campaigns/${encodeURIComponent(id)}/form`)).data;
}
