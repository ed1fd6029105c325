import { describe, it, expect, vi, afterEach } from 'vitest';
import { saveOrderToken, getCampaignOrderToken } from '../../src/lib/session.js';
import { createOrder, payOrder } from '../../src/api/orders.js';
import { memoryStorage } from './memoryStorage.js';

describe('proof of a repeat registration', () => {
  it("sends this browser's token of the campaign's last order", () => {
    const s = memoryStorage();
    expect(getCampaignOrderToken('7', s)).toBeNull();
    saveOrderToken(41, '41.1.1900000000.sig', '7', s);
    saveOrderToken(42, '42.2.1900000000.sig', '8', s);
    expect(getCampaignOrderToken('7', s)).toBe('41.1.1900000000.sig');
    expect(getCampaignOrderToken('8', s)).toBe('42.2.1900000000.sig');
  });
});

describe('order requests carry proofs in headers, never an openid', () => {
  afterEach(() => vi.unstubAllGlobals());

  function stubFetch(answer) {
    const fetch = vi.fn(async () => ({ ok: true, status: 200, json: async () => answer }));
    vi.stubGlobal('fetch', fetch);
    return fetch;
  }

  it('registration sends the order token and the session', async () => {
    const fetch = stubFetch({ id: 1 });
    await createOrder({ campaignId: 7, phone: '13800138000', formData: {} }, { orderToken: 'T', sessionToken: 'S' });
    const [, init] = fetch.mock.calls[0];
    expect(init.headers['X-Order-Token']).toBe('T');
    expect(init.headers.Authorization).toBe('Bearer S');
    expect(JSON.parse(init.body)).not.toHaveProperty('openid');
  });

  it('JSAPI pay sends the WeChat session instead of an openid', async () => {
    const fetch = stubFetch({ outTradeNo: 'D0001A1' });
    await payOrder(1, 'T', { channel: 'jsapi' }, 'S');
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/v1/orders/1/pay');
    expect(init.headers.Authorization).toBe('Bearer S');
    expect(JSON.parse(init.body)).toEqual({ channel: 'jsapi' });
  });
});
