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

async function confirmOnSimulator(page, pattern) {
  const button = page.getByRole('button', { name: pattern }).first();
  if (await button.isVisible().catch(() => false)) await button.click();
}

test('inside WeChat the success page offers the reward notice; 允许 records one consent', async ({ page, request }) => {
  const campaign = await liveCampaign(request);
  await page.goto(campaignPath(campaign.id));
  await page.waitForURL((u) => u.href.startsWith(SIM_URL) || u.hash.includes('pages/campaign'), { timeout: 30_000 });
  if (page.url().startsWith(SIM_URL)) await confirmOnSimulator(page, /允许|同意|确认|授权|allow|confirm/i);
  await page.waitForURL(/\/h5\/.*#\/pages\/campaign\/index/, { timeout: 30_000 });
  await waitFormReady(page);
  await fillForm(page, { phone: uniquePhone(), name: '微信用户' });
  await page.getByTestId('submit').click();
  await page.waitForTimeout(500);
  await confirmOnSimulator(page, /确认支付|立即支付|支付|pay/i);
  await page.waitForURL(/#\/pages\/success\/index/, { timeout: 30_000 });
  await expectSuccessWithPoster(page);

  const card = page.getByTestId('notice-subscribe');
  await expect(card).toBeVisible();
  await expect(page.getByTestId('notice-hint')).toContainText('第一时间通知你');
  await card.scrollIntoViewIfNeeded();
  await screenshot(page, 'notices-01-offer', { fullPage: false });

  await page.locator('wx-open-subscribe').click();
  const sheet = page.locator('[data-sim="subscribe-popup"]');
  await expect(sheet).toBeVisible();
  await screenshot(page, 'notices-02-popup', { fullPage: false });
  const accepted = page.waitForResponse((r) => r.url().endsWith('/api/v1/me/notice-subscription') && r.request().method() === 'POST');
  await sheet.getByRole('button', { name: '允许' }).click();
  expect((await accepted).status()).toBe(201);
  await expect(page.getByTestId('notice-hint')).toContainText('已开启，接下来 1 次');
  await screenshot(page, 'notices-03-accepted', { fullPage: false });
});
