import { test, expect } from './fixtures.js';
import fs from 'node:fs';
import path from 'node:path';
import { apiLogin, useSession, createCampaignApi, authHeader, SCREENSHOT_DIR } from './helpers.js';

// Channels and the funnel (issue 19): a channel made in the UI, its link, visits tracked through
// POST /api/v1/track and rolled up by Settlement, shown on the funnel page and in the campaign list.
test.use({ viewport: { width: 1440, height: 900 } });

const MOBILE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile MicroMessenger/8.0.50';

async function shot(page, name) {
  await page.waitForLoadState('networkidle');
  await expect(page.locator('.el-loading-mask:visible')).toHaveCount(0);
  await page.waitForTimeout(1200); // ECharts animations
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

test('channels: create, link with c_id and print QR, unregistered codes in the funnel', async ({ page, request }) => {
  const session = await apiLogin(request);
  await useSession(page, session);
  const campaign = await createCampaignApi(request, session.token);
  const pub = await request.post(`/api/v1/campaigns/${campaign.id}/publish`, { headers: authHeader(session.token) });
  expect(pub.status()).toBe(200);
  const suffix = String(Date.now()).slice(-6);
  const code = `wx-bj-${suffix}`;

  await page.goto('/admin/#/channels');
  await expect(page.getByTestId('channel-table')).toBeVisible();
  await page.getByTestId('new-channel').click();
  await page.getByTestId('channel-name').fill(`北京家长群 ${suffix}`);
  await page.getByTestId('channel-code').fill(code);
  await page.getByTestId('channel-note').fill('3 月线下活动群，群主：王老师');
  await page.getByTestId('channel-save').click();
  const row = page.getByTestId('channel-table').locator('.el-table__row', { hasText: code });
  await expect(row).toBeVisible();

  // The same code again is refused with a message at the field.
  await page.getByTestId('new-channel').click();
  await page.getByTestId('channel-name').fill('重复');
  await page.getByTestId('channel-code').fill(code);
  await page.getByTestId('channel-save').click();
  await expect(page.getByTestId('channel-dialog').getByText('该渠道编码已存在')).toBeVisible();
  await page.getByTestId('channel-dialog').getByRole('button', { name: '取消' }).click();

  await row.getByTestId('channel-links').click();
  const dialog = page.getByTestId('channel-link-dialog');
  await dialog.getByTestId('channel-link-campaign').click();
  await page.locator('.el-select-dropdown__item', { hasText: campaign.name }).click();
  await expect(dialog.getByTestId('h5-url')).toHaveValue(new RegExp(`c_id=${code}$`));
  await expect(dialog.getByTestId('h5-qr')).toBeVisible();
  await expect(dialog.getByTestId('h5-qr-download')).toBeVisible();
  await shot(page, '20-channel-link');
  await dialog.locator('.el-dialog__headerbtn').click();
  await shot(page, '21-channels');

  // Visits: a registered channel and an unregistered one, as the H5 page sends them.
  const visits = [
    ...Array.from({ length: 6 }, (_, i) => ({ channel: code, visitor: `e2e-${suffix}-a${i}`, events: ['view', 'view', 'form_start'] })),
    ...Array.from({ length: 3 }, (_, i) => ({ channel: `kol-x${suffix}`, visitor: `e2e-${suffix}-b${i}`, events: ['view'] })),
    { channel: '', visitor: `e2e-${suffix}-c0`, events: ['view', 'form_start', 'submit', 'pay_start'] },
  ];
  for (const [i, v] of visits.entries()) {
    const res = await request.post('/api/v1/track', {
      headers: { 'User-Agent': MOBILE },
      data: {
        batchId: `e2e-${suffix}-${i}`,
        visitorId: v.visitor,
        campaignId: campaign.id,
        channel: v.channel,
        referrer: '',
        events: v.events.map((type) => ({ type })),
      },
    });
    expect(res.status()).toBe(202);
  }

  await page.goto(`/admin/#/funnel?campaignId=${campaign.id}`);
  await expect(page.getByTestId('funnel-steps')).toBeVisible();
  // Settlement rolls the batches up within moments.
  await expect(async () => {
    await page.reload();
    await expect(page.getByTestId('funnel-visitors')).toHaveText('10', { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('funnel-views')).toHaveText('16');
  const channels = page.getByTestId('funnel-channels');
  await expect(channels.locator('.el-table__row', { hasText: code })).toContainText(`北京家长群 ${suffix}`);
  await expect(channels.locator('.el-table__row', { hasText: `kol-x${suffix}` })).toContainText('未登记');
  await expect(page.getByTestId('funnel-chart')).toBeVisible();
  await shot(page, '22-funnel');

  const download = page.waitForEvent('download');
  await page.getByTestId('funnel-export').click();
  const file = await download;
  const csv = fs.readFileSync(await file.path(), 'utf8');
  expect(csv).toContain(`渠道,${code},北京家长群 ${suffix},12,6,6`);

  await page.goto('/admin/#/campaigns');
  const campaignRow = page.getByTestId('campaign-table').locator('.el-table__row', { hasText: campaign.name });
  await expect(campaignRow.getByTestId('campaign-today')).toHaveText('10 / 0');
});
