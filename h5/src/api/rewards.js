import { request } from './http.js';

export async function getMyRewards(sessionToken) {
  return (await request('GET', '/api/v1/me/rewards', { sessionToken })).data;
}
