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

/** Clicks the simulator's confirm control if the simulator shows one (authorize page). */
async function confirmOnSimulator(page, pattern) {
  const button = page.getByRole('button', { name: pattern }).first();
  if (await button.isVisible().catch(() => false)) await button.click();
}

/** Inside WeChat: open the link, sign in through the simulator's OAuth, register and pay with JSAPI. */
async function registerAndPay(page, url, name) {
  await page.goto(url);
  await page.waitForURL((u) => u.href.startsWith(SIM_URL) || u.hash.includes('pages/campaign'), { timeout: 30_000 });
  if (page.url().startsWith(SIM_URL)) await confirmOnSimulator(page, /允许|同意|确认|授权|allow|confirm/i);
  await page.waitForURL(/\/h5\/.*#\/pages\/campaign\/index/, { timeout: 30_000 });
  await waitFormReady(page);
  await fillForm(page, { phone: uniquePhone(), name });
  await page.getByTestId('submit').click();
  await page.waitForURL(/#\/pages\/success\/index/, { timeout: 30_000 });
  await expectSuccessWithPoster(page);
}

/** The share card of `kind` the page set with the sharer's code (the simulator's JS-SDK shim records them). */
async function sharedCard(page, kind, code) {
  await expect
    .poll(
      () => page.evaluate(([k, c]) => (window.__wxShares || []).some((s) => s.kind === k && s.link.includes(`u_id=${c}`)), [kind, code]),
      {
        timeout: 20_000,
      },
    )
    .toBe(true);
  const local = await page.evaluate(
    ([k, c]) => window.__wxShares.filter((s) => s.kind === k && s.link.includes(`u_id=${c}`)).at(-1),
    [kind, code],
  );
  // The simulator accepted wx.config (checked the signature) and recorded the same card.
  const recorded = await (await fetch(`${SIM_URL}/sim/jssdk/shares`)).json();
  expect(recorded.some((s) => s.kind === kind && s.link === local.link)).toBe(true);
  return local;
}

async function totalRewardFen(request, campaign, participantId) {
  const r = await request.get(`/api/v1/rewards/balance/${participantId}`, { headers: campaign.adminHeaders });
  expect(r.status()).toBe(200);
  return (await r.json()).totalRewardFen;
}

async function referrerOf(request, campaign) {
  const r = await request.get(`/api/v1/orders?campaignId=${campaign.id}&pageSize=50`, { headers: campaign.adminHeaders });
  expect(r.status()).toBe(200);
  return (await r.json()).items.filter((o) => o.status === 'paid').map((o) => o.referrerId);
}

test('inside WeChat: A shares from the success page to a chat and to Moments; friends who open the cards pay and A is rewarded', async ({
  page,
  browser,
  request,
}) => {
  const campaign = await liveCampaign(request);
  await registerAndPay(page, campaignPath(campaign.id, { cId: 'wx_group' }), '分享人甲');
  const codeA = await expect
    .poll(() => page.evaluate(() => JSON.parse(localStorage.getItem('dmh.referralCode') || 'null')))
    .not.toBeNull()
    .then(() => page.evaluate(() => JSON.parse(localStorage.getItem('dmh.referralCode'))));
  // The success page URL itself now carries A's code (a plain copy of it still refers).
  await expect.poll(() => page.url()).toContain(`u_id=${codeA}`);
  const chat = await sharedCard(page, 'appmessage', codeA);
  const moments = await sharedCard(page, 'timeline', codeA);
  for (const card of [chat, moments]) {
    const q = new URLSearchParams(card.link.split('#')[1].split('?')[1]);
    expect(Object.fromEntries(q)).toEqual({ id: String(campaign.id), c_id: 'wx_group', u_id: codeA });
    expect(card.title).toBe(campaign.name);
    expect(card.imgUrl).toMatch(/^http/);
  }
  expect(chat.desc).toContain('3 节直播体验课');
  await screenshot(page, 'share-01-success-a');

  // WeChat adds its own parameters to the query of a shared link (before the hash): the friend's page
  // signs that URL for its own card.
  const opened = {
    appmessage: chat.link.replace('#', '?from=singlemessage&isappinstalled=0#'),
    timeline: moments.link.replace('#', '?from=timeline&isappinstalled=0#'),
  };
  let expectedReward = 0;
  let participantA = null;
  for (const kind of ['appmessage', 'timeline']) {
    const context = await browser.newContext({
      userAgent: WECHAT_UA,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const friend = await context.newPage();
    await registerAndPay(friend, opened[kind], kind === 'appmessage' ? '好友乙' : '好友丙');
    const attr = await friend.evaluate((id) => JSON.parse(localStorage.getItem(`dmh.attr.${id}`)), String(campaign.id));
    expect(attr).toMatchObject({ cId: 'wx_group', uId: codeA });
    if (kind === 'appmessage') await screenshot(friend, 'share-02-success-b');
    // The friend's own card carries the friend's code, not A's.
    const codeFriend = await friend.evaluate(() => JSON.parse(localStorage.getItem('dmh.referralCode')));
    expect(codeFriend).not.toBe(codeA);
    await sharedCard(friend, 'appmessage', codeFriend);
    await context.close();

    // The friend's paid order names A as referrer (A's first, unreferred order has none).
    const referrers = (await referrerOf(request, campaign)).filter((r) => r);
    expect(new Set(referrers).size).toBe(1);
    participantA ??= referrers[0];
    expectedReward += campaign.reward?.amountFen ?? 100;
    await expect.poll(() => totalRewardFen(request, campaign, participantA), { timeout: 40_000 }).toBe(expectedReward);
  }
  expect((await referrerOf(request, campaign)).filter((r) => r === participantA)).toHaveLength(2);
});

test("a friend opening someone's success page link sees the campaign with the sharer as referrer, not an error", async ({
  page,
  request,
}) => {
  const campaign = await liveCampaign(request);
  const url = `/h5/#/pages/success/index?orderId=999999&id=${campaign.id}&u_id=SharerCode01&c_id=kol_1`;
  await page.goto(url);
  // The campaign page is the app's first page: uni-app routes it as `#/?id=…` after a reLaunch.
  await page.waitForURL((u) => !u.hash.includes('pages/success') && u.hash.includes(`id=${campaign.id}`), { timeout: 30_000 });
  await waitFormReady(page);
  await expect(page.getByText('未找到报名凭证')).toHaveCount(0);
  await expect(page.getByText(campaign.name).first()).toBeVisible();
  const attr = await page.evaluate((id) => JSON.parse(localStorage.getItem(`dmh.attr.${id}`)), String(campaign.id));
  expect(attr).toMatchObject({ cId: 'kol_1', uId: 'SharerCode01' });
});
