import { test, expect } from './fixtures.js';
import fs from 'node:fs';
import { apiLogin, useSession, authHeader, createCampaignApi, pickOption } from './helpers.js';

let session;
let campaign;
let phone;
let orderId;

test.beforeAll(async ({ request }) => {
  session = await apiLogin(request);
  campaign = await createCampaignApi(request, session.token);
  const pub = await request.post(`/api/v1/campaigns/${campaign.id}/publish`, { headers: authHeader(session.token) });
  expect(pub.ok()).toBeTruthy();
  phone = `139${String(Date.now()).slice(-8)}`;
  const res = await request.post('/api/v1/orders', {
    data: { campaignId: campaign.id, phone, formData: { name: '订单测试' }, cId: 'e2e_channel' },
  });
  expect(res.status(), await res.text()).toBe(201);
  orderId = (await res.json()).id;
});

test('order filters reach the API and narrow the table', async ({ page }) => {
  await useSession(page, session);
  await page.goto('/admin/#/orders');
  await expect(page.getByTestId('order-table')).toBeVisible();

  await page.getByTestId('filter-campaign').locator('input').fill(campaign.name.slice(0, 8));
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: campaign.name }).click();
  await pickOption(page, 'filter-status', '待支付');
  await page.getByTestId('filter-phone').fill(phone);
  const wait = page.waitForRequest((r) => r.url().includes('/api/v1/orders?') && r.url().includes(`phone=${phone}`));
  await page.getByTestId('filter-search').click();
  const req = new URL((await wait).url());
  expect(req.searchParams.get('campaignId')).toBe(String(campaign.id));
  expect(req.searchParams.get('status')).toBe('pending');
  const rows = page.getByTestId('order-table').locator('.el-table__body-wrapper .el-table__row');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(phone);

  // a date range of today keeps it; the query carries ISO times in +08:00
  const inputs = page.getByTestId('filter-dates').locator('input');
  const today = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);
  await inputs.nth(0).fill(today);
  await inputs.nth(0).press('Enter');
  await inputs.nth(1).fill(today);
  await inputs.nth(1).press('Enter');
  const wait2 = page.waitForRequest((r) => r.url().includes('/api/v1/orders?') && r.url().includes('from='));
  await page.getByTestId('filter-search').click();
  const req2 = new URL((await wait2).url());
  expect(req2.searchParams.get('from')).toBe(`${today}T00:00:00+08:00`);
  expect(req2.searchParams.get('to')).toBe(`${today}T23:59:59+08:00`);
  await expect(rows).toHaveCount(1);

  // the pay status filter is passed through
  const wait3 = page.waitForResponse((r) => r.url().includes('/api/v1/orders?') && r.url().includes('payStatus=unpaid'));
  await pickOption(page, 'filter-pay-status', '未支付');
  await page.getByTestId('filter-search').click();
  expect((await wait3).status()).toBe(200);

  // the sync status filter is passed through (an unpaid order's sync state is the backend's business)
  const wait4 = page.waitForResponse((r) => r.url().includes('/api/v1/orders?') && r.url().includes('syncStatus=failed'));
  await pickOption(page, 'filter-sync-status', '同步失败');
  await page.getByTestId('filter-search').click();
  expect((await wait4).status()).toBe(200);

  // detail drawer, from the phone filter alone
  await page.getByRole('button', { name: '重置' }).click();
  await page.getByTestId('filter-phone').fill(phone);
  await page.getByTestId('filter-search').click();
  await expect(rows).toHaveCount(1);
  await rows.first().click();
  const drawer = page.getByTestId('order-drawer');
  await expect(drawer).toContainText(`订单详情 #${orderId}`);
  await expect(drawer.getByTestId('order-form-data')).toContainText('订单测试');
  await expect(drawer.getByTestId('order-channel')).toHaveText('e2e_channel');
  await expect(drawer).toContainText('支付记录');
  await expect(drawer).toContainText('同步状态');
});

test('CSV export downloads with the token', async ({ page }) => {
  await useSession(page, session);
  await page.goto('/admin/#/orders');
  await page.getByTestId('filter-phone').fill(phone);
  await page.getByTestId('filter-search').click();
  const download = page.waitForEvent('download');
  await page.getByTestId('export-csv').click();
  const file = await (await download).path();
  const text = fs.readFileSync(file, 'utf8');
  expect(text.charCodeAt(0)).toBe(0xfeff);
  expect(text).toContain(phone);
});
