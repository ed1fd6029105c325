import { test, expect } from './fixtures.js';
import {
  needsBackend,
  liveCampaign,
  campaignPath,
  waitFormReady,
  fillForm,
  expectSuccessWithPoster,
  screenshot,
  uniquePhone,
  SIM_URL,
  WECHAT_UA,
} from './helpers.js';

test.skip(needsBackend(), 'set DMH_ADMIN_PASSWORD (or DMH_E2E_CAMPAIGN_ID) to run against Dmh.Ingress');
test.use({ userAgent: WECHAT_UA });

/** Clicks the simulator's confirm control if the simulator shows one (authorize page, shim pay sheet). */
async function confirmOnSimulator(page, pattern) {
  const button = page.getByRole('button', { name: pattern }).first();
  if (await button.isVisible().catch(() => false)) await button.click();
}

test('inside WeChat: OAuth round trip keeps attribution, JSAPI pay through the simulator shim', async ({ page, request }) => {
  const campaign = await liveCampaign(request);

  // The page redirects to the (simulated) authorize page with a state the server issued (hex, signed,
  // bound to this browser by an HttpOnly cookie), which comes back with ?code&state.
  const authorize = page.waitForRequest((r) => r.url().startsWith(`${SIM_URL}/connect/oauth2/authorize`));
  const stateIssued = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/wechat/state'));
  const login = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/wechat') && r.request().method() === 'POST');
  await page.goto(campaignPath(campaign.id, { cId: 'wx_menu' }));
  // (The page leaves for the authorize page at once, so the state is read from that URL, not the response body.)
  expect((await stateIssued).status()).toBe(200);
  expect(new URL((await authorize).url()).searchParams.get('state')).toMatch(/^[0-9a-f]{80}$/);
  await page.waitForURL((u) => u.href.startsWith(SIM_URL) || /[?&]code=/.test(u.href) || u.hash.includes('pages/campaign'), {
    timeout: 30_000,
  });
  if (page.url().startsWith(SIM_URL)) await confirmOnSimulator(page, /允许|同意|确认|授权|allow|confirm/i);
  await page.waitForURL(/\/h5\/.*#\/pages\/campaign\/index/, { timeout: 30_000 });
  await waitFormReady(page);
  expect((await login).status(), 'the server accepts its own state from this browser').toBe(200);
  await expect.poll(() => page.evaluate(() => JSON.parse(localStorage.getItem('dmh.session') || '{}').openid || '')).not.toBe('');
  expect(page.url()).not.toMatch(/[?&]code=/);
  const attr = await page.evaluate((id) => JSON.parse(localStorage.getItem(`dmh.attr.${id}`)), String(campaign.id));
  expect(attr).toMatchObject({ cId: 'wx_menu' });

  await fillForm(page, { phone: uniquePhone(), name: '微信用户' });
  const orderRequest = page.waitForRequest((r) => r.url().endsWith('/api/v1/orders') && r.method() === 'POST');
  const payRequest = page.waitForRequest((r) => /\/api\/v1\/orders\/\d+\/pay$/.test(r.url()));
  await page.getByTestId('submit').click();
  // The openid travels only inside the WeChat session token, never in a body.
  const order = await orderRequest;
  expect(order.headers().authorization).toMatch(/^Bearer /);
  expect(order.postDataJSON()).not.toHaveProperty('openid');
  const pay = await payRequest;
  expect(pay.postDataJSON()).toEqual({ channel: 'jsapi' });
  expect(pay.headers().authorization).toMatch(/^Bearer /);
  await page.waitForTimeout(500);
  await confirmOnSimulator(page, /确认支付|立即支付|支付|pay/i);
  await page.waitForURL(/#\/pages\/success\/index/, { timeout: 30_000 });
  await expectSuccessWithPoster(page);
  await screenshot(page, '07-wechat-success');
});
