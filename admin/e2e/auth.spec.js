import { test, expect } from './fixtures.js';
import { signIn, ADMIN_USER, ADMIN_PASSWORD } from './helpers.js';

test('a protected page without a session goes to sign-in', async ({ page }) => {
  await page.goto('/admin/#/orders');
  await expect(page).toHaveURL(/#\/sign-in\?redirect=/);
  await expect(page.getByText('营销管理后台').first()).toBeVisible();
});

test('wrong credentials are refused with a message', async ({ page }) => {
  await page.goto('/admin/#/sign-in');
  await page.getByTestId('username').fill(ADMIN_USER);
  await page.getByTestId('password').fill(`${ADMIN_PASSWORD}-wrong`);
  await page.getByTestId('sign-in').click();
  await expect(page.locator('.el-alert--error')).toContainText(/用户名或密码错误|频繁/);
  await expect(page).toHaveURL(/#\/sign-in/);
});

test('an admin signs in, sees every menu and signs out', async ({ page }) => {
  await signIn(page);
  await expect(page.getByTestId('current-user')).toHaveText(ADMIN_USER);
  const menu = page.getByTestId('menu');
  for (const item of ['数据概览', '活动管理', '新建活动', '订单管理', '推荐奖励', '同步监控']) await expect(menu).toContainText(item);
  await page.getByTestId('sign-out').click();
  await page.locator('.el-message-box .el-button--primary').click();
  await expect(page).toHaveURL(/#\/sign-in/);
  expect(await page.evaluate(() => localStorage.getItem('dmh.admin.session'))).toBeNull();
});

test('after sign-in the user returns to the page asked for', async ({ page }) => {
  await page.goto('/admin/#/sync');
  await expect(page).toHaveURL(/#\/sign-in/);
  await page.getByTestId('username').fill(ADMIN_USER);
  await page.getByTestId('password').fill(ADMIN_PASSWORD);
  await page.getByTestId('sign-in').click();
  await expect(page).toHaveURL(/#\/sync/);
});
