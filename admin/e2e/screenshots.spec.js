import { test, expect } from './fixtures.js';
import path from 'node:path';
import fs from 'node:fs';
import { signIn, SCREENSHOT_DIR } from './helpers.js';

// One 1440×900 screenshot of every page, for a human to look at.
test.use({ viewport: { width: 1440, height: 900 } });

async function settle(page) {
  await page.waitForLoadState('networkidle');
  await expect(page.locator('.el-loading-mask:visible')).toHaveCount(0);
  await page.waitForTimeout(400); // chart and transition animations
}

async function shot(page, name) {
  await settle(page);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

test('screenshot every page', async ({ page }) => {
  await page.goto('/admin/#/sign-in');
  await expect(page.getByTestId('sign-in')).toBeVisible();
  await shot(page, '01-sign-in');

  await signIn(page);
  await expect(page.getByTestId('dash-trend')).toBeVisible();
  await page.waitForTimeout(1200); // ECharts draws its lines over one second
  await shot(page, '02-dashboard');

  await page.goto('/admin/#/campaigns');
  await expect(page.getByTestId('campaign-table')).toBeVisible();
  await shot(page, '03-campaigns');

  const first = page.getByTestId('campaign-table');
  const link = first.locator('.el-table__row').first().locator('.el-link');
  if (await link.count()) {
    await link.first().click();
    await expect(page).toHaveURL(/#\/campaigns\/\d+/);
    await shot(page, '05-campaign-edit');
  }

  await page.goto('/admin/#/orders');
  await expect(page.getByTestId('order-table')).toBeVisible();
  await shot(page, '06-orders');
  const row = page.getByTestId('order-table').locator('.el-table__body-wrapper .el-table__row').first();
  if (await row.count()) {
    await row.click();
    await expect(page.getByTestId('order-drawer')).toBeVisible();
    await shot(page, '07-order-detail');
  }

  await page.goto('/admin/#/rewards');
  await expect(page.getByTestId('referrer-table')).toBeVisible();
  await shot(page, '08-rewards');
  const ref = page.getByTestId('referrer-table').locator('.el-table__body-wrapper .el-table__row').first();
  if (await ref.count()) {
    await ref.click();
    await expect(page.getByTestId('reward-drawer')).toBeVisible();
    await shot(page, '09-reward-records');
  }

  await page.goto('/admin/#/sync');
  await expect(page.getByTestId('sync-summary')).toBeVisible();
  await shot(page, '10-sync');

  await page.goto('/admin/#/campaigns/new');
  await page.getByTestId('name').fill('示例活动：2026 冬季私域增长训练营');
  // A new campaign starts with the name field; add-name shows only when it was removed.
  await page.getByTestId('add-select').click();
  await page.getByTestId('add-checkbox').click();
  await shot(page, '04-campaign-new');
});
