import { expect } from '@playwright/test';
import { authHeader } from './helpers.js';
import { SIM_URL, uniquePhone, registerAndPay } from './rewardsHelpers.js';

// Set-up for the 提现审核 screens (issue 18): participants with a WeChat session (openid, as wechat mode
// needs) and an available balance, who ask to withdraw through the H5 API.

/** A WeChat H5 session for `openid`, through the simulator's authorize endpoint and the real code exchange. */
export async function wechatSession(request, openid) {
  const cfg = await (await request.get('/api/v1/h5/config')).json();
  const st = await request.get('/api/v1/auth/wechat/state');
  expect(st.ok(), await st.text()).toBeTruthy();
  const { state } = await st.json();
  const url = new URL(cfg.oauthAuthorizeUrl);
  url.searchParams.set('appid', cfg.wechatAppId);
  url.searchParams.set('redirect_uri', new URL('/h5/', st.url()).href);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', 'snsapi_base');
  url.searchParams.set('state', state);
  url.searchParams.set('sim_openid', openid);
  const authorized = await request.get(url.href, { maxRedirects: 0 });
  const code = new URL(authorized.headers().location || 'http://x/').searchParams.get('code');
  expect(code, 'the simulator redirects back with a code').toBeTruthy();
  const login = await request.post('/api/v1/auth/wechat', { data: { code, state } });
  expect(login.ok(), await login.text()).toBeTruthy();
  return (await login.json()).sessionToken;
}

/**
 * A referrer registered and paid inside (simulated) WeChat, so the participant has an openid, and one
 * friend who paid through the referrer's code: with a hold of 0 days the reward is available at once.
 * → `{phone, name, openid, sessionToken, userId}`.
 */
export async function referrerWithBalance(request, token, campaign, { name, rewardFen }) {
  const phone = uniquePhone();
  const openid = `oE2EW${phone}`;
  const first = await wechatSession(request, openid);
  const created = await request.post('/api/v1/orders', {
    data: { campaignId: campaign.id, phone, formData: { name } },
    headers: authHeader(first),
  });
  expect(created.status(), await created.text()).toBe(201);
  const order = await created.json();
  const pay = await request.post(`/api/v1/orders/${order.id}/pay`, {
    data: { channel: 'h5' },
    headers: { 'X-Order-Token': order.accessToken },
  });
  expect(pay.ok(), await pay.text()).toBeTruthy();
  const sim = await request.post(`${SIM_URL}/sim/pay`, { data: { outTradeNo: (await pay.json()).outTradeNo } });
  expect(sim.ok(), await sim.text()).toBeTruthy();
  let view;
  await expect
    .poll(async () => {
      view = await (await request.get(`/api/v1/orders/${order.id}`, { headers: { 'X-Order-Token': order.accessToken } })).json();
      return view.status;
    })
    .toBe('paid');
  await registerAndPay(request, campaign.id, { phone: uniquePhone(), name: '好友', uId: view.referralCode });
  // a fresh session now that the participant exists with this openid
  const sessionToken = await wechatSession(request, openid);
  await expect.poll(async () => (await myWithdrawals(request, sessionToken)).availableFen, { timeout: 20_000 }).toBe(rewardFen);
  return { phone, name, openid, sessionToken };
}

export async function myWithdrawals(request, sessionToken) {
  const res = await request.get('/api/v1/me/withdrawals', { headers: authHeader(sessionToken) });
  expect(res.ok(), await res.text()).toBeTruthy();
  return res.json();
}

/** The participant asks to withdraw `amountFen` → the new item. */
export async function requestWithdrawal(request, sessionToken, amountFen) {
  const res = await request.post('/api/v1/me/withdrawals', { data: { amountFen }, headers: authHeader(sessionToken) });
  expect(res.status(), await res.text()).toBe(201);
  return res.json();
}
