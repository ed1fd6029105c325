import { expect } from '@playwright/test';
import { authHeader, shanghaiIso, unique } from './helpers.js';

// Set-up for the issue 17 screens: campaigns with the multi-level rule, registrations paid on the
// WeChat simulator (its /sim/pay control), so the settlement worker credits real rewards.
export const SIM_URL = (process.env.DMH_SIM_URL || 'http://127.0.0.1:5090').replace(/\/$/, '');

export function uniquePhone() {
  return `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}

export async function rewardCampaign(request, token, reward, over = {}) {
  const body = {
    name: unique('E2E 奖励活动'),
    description: '奖励页浏览器测试',
    coverUrl: null,
    startTime: shanghaiIso(-1),
    endTime: shanghaiIso(30),
    priceFen: 9900,
    reward,
    payment: { description: '报名费' },
    requireSms: false,
    formSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { name: { title: '姓名', type: 'string', 'x-widget': 'text', 'x-order': 1, maxLength: 50 } },
      required: ['name'],
    },
    ...over,
  };
  const res = await request.post('/api/v1/campaigns', { data: body, headers: authHeader(token) });
  expect(res.status(), await res.text()).toBe(201);
  const campaign = await res.json();
  const pub = await request.post(`/api/v1/campaigns/${campaign.id}/publish`, { headers: authHeader(token) });
  expect(pub.ok(), await pub.text()).toBeTruthy();
  return campaign;
}

/** Registers `phone` (optionally referred by `uId`) without paying → `{orderId, orderToken}`. */
export async function register(request, campaignId, { phone, name, uId }) {
  const res = await request.post('/api/v1/orders', { data: { campaignId, phone, formData: { name }, ...(uId ? { uId } : {}) } });
  expect(res.status(), await res.text()).toBe(201);
  const o = await res.json();
  return { orderId: o.id, orderToken: o.accessToken };
}

/** Registers and pays on the simulator; waits until the order is paid → `{orderId, referralCode}`. */
export async function registerAndPay(request, campaignId, who) {
  const { orderId, orderToken } = await register(request, campaignId, who);
  const pay = await request.post(`/api/v1/orders/${orderId}/pay`, { data: { channel: 'h5' }, headers: { 'X-Order-Token': orderToken } });
  expect(pay.ok(), await pay.text()).toBeTruthy();
  const { outTradeNo } = await pay.json();
  const sim = await request.post(`${SIM_URL}/sim/pay`, { data: { outTradeNo } });
  expect(sim.ok(), await sim.text()).toBeTruthy();
  let view;
  await expect
    .poll(
      async () => {
        view = await (await request.get(`/api/v1/orders/${orderId}`, { headers: { 'X-Order-Token': orderToken } })).json();
        return view.status;
      },
      { timeout: 20_000 },
    )
    .toBe('paid');
  return { orderId, referralCode: view.referralCode, orderToken };
}

/** Waits until the order's rewards are credited → the detail's rewards. */
export async function rewardsOf(request, token, orderId, count) {
  let rewards = [];
  await expect
    .poll(
      async () => {
        rewards = (await (await request.get(`/api/v1/orders/${orderId}/detail`, { headers: authHeader(token) })).json()).rewards || [];
        return rewards.length;
      },
      { timeout: 20_000 },
    )
    .toBe(count);
  return rewards;
}
