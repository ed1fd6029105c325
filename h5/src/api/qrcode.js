import { request } from './http.js';

/** The registrant's personal poster as a PNG Blob. */
export async function generatePoster(orderId, orderToken) {
  return (await request('POST', '/api/v1/qrcode/generate', { orderToken, body: { orderId }, as: 'blob' })).data;
}
