import fs from 'node:fs';
import path from 'node:path';
import { test, expect } from './fixtures.js';
import { apiLogin, useSession, authHeader, confirmBox, pickOption, unique, SCREENSHOT_DIR } from './helpers.js';
import { rewardCampaign, registerAndPay, uniquePhone } from './rewardsHelpers.js';
import { readXlsx, serialToText } from './xlsx.js';

// Issue 20, items 2 and 3: accounts and roles, change password, Excel exports read back, the referrer by
// name, the link dialog, dead letters. Admin at 1440×900.
let session;
let campaign;
let referrer;
let friendPhone;

const shot = (page, name) => page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });

test.beforeAll(async ({ request }) => {
  session = await apiLogin(request);
  campaign = await rewardCampaign(
    request,
    session.token,
    { type: 'fixed', amountFen: 500 },
    {
      name: unique('E2E 导出活动'),
      priceFen: 4900,
      formSchema: {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: {
          name: { title: '学员姓名', type: 'string', 'x-widget': 'text', 'x-order': 1, maxLength: 50 },
          school: { title: '就读学校', type: 'string', 'x-widget': 'text', 'x-order': 2, maxLength: 50 },
          grade: { title: '年级', type: 'string', 'x-widget': 'select', 'x-order': 3, enum: ['一年级', '二年级'] },
        },
        required: ['name'],
      },
    },
  );
  const referrerPhone = uniquePhone();
  referrer = { phone: referrerPhone, ...(await registerAndPay(request, campaign.id, { phone: referrerPhone, name: '王小明' })) };
  friendPhone = uniquePhone();
  const res = await request.post('/api/v1/orders', {
    data: {
      campaignId: campaign.id,
      phone: friendPhone,
      formData: { name: '李小华', school: '实验小学', grade: '二年级' },
      uId: referrer.referralCode,
    },
  });
  expect(res.status(), await res.text()).toBe(201);
});

test('the orders list names the referrer, the Excel export opens with Beijing times, titles and text ids', async ({ page }) => {
  await useSession(page, session);
  await page.goto(`/admin/#/orders?campaignId=${campaign.id}`);
  await page.getByTestId('filter-phone').fill(friendPhone);
  await page.getByTestId('filter-search').click();
  const row = page.getByTestId('order-table').locator('.el-table__body-wrapper .el-table__row').first();
  await expect(row.getByTestId('referrer-link')).toContainText('王小明');
  await expect(row.getByTestId('referrer-link')).toContainText(`${referrer.phone.slice(0, 3)}****${referrer.phone.slice(-4)}`);
  await page.getByTestId('filter-phone').fill('');
  await page.getByTestId('filter-search').click();
  await expect(page.getByTestId('order-table')).toContainText('已支付');
  await page.waitForTimeout(400); // the tags' zoom-in transition
  await shot(page, 'admin-orders-referrer');

  const download = page.waitForEvent('download');
  await page.getByTestId('export-xlsx').click();
  const file = await download;
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date()).replace(/-/g, '');
  expect(file.suggestedFilename()).toBe(`订单-${campaign.name}-${day}.xlsx`);
  const rows = readXlsx(fs.readFileSync(await file.path()));
  const header = rows[0].map((c) => c.text);
  expect(header.slice(3, 6)).toEqual(['学员姓名', '就读学校', '年级']);
  const cell = (r, name) => r[header.indexOf(name)];
  const friend = rows.find((r) => cell(r, '手机号')?.text === friendPhone);
  const paid = rows.find((r) => cell(r, '手机号')?.text === referrer.phone);
  expect(cell(friend, '就读学校').text).toBe('实验小学');
  expect(cell(friend, '推荐人').text).toBe('王小明');
  expect(cell(friend, '订单状态').text).toBe('待支付');
  expect(cell(friend, '支付状态').text).toBe('未支付');
  expect(cell(paid, '推荐人')).toBeUndefined();
  expect(cell(paid, '订单状态').text).toBe('已支付');
  expect(cell(paid, '金额(元)')).toEqual({ number: 49, format: '0.00' });
  expect(cell(paid, '微信交易号').format).toBe('@');
  expect(cell(paid, '微信交易号').text).toMatch(/^\d{10,}$/);
  // the created time as Beijing wall time, within a minute of the API's ISO time
  const created = cell(friend, '创建时间');
  expect(created.format).toBe('yyyy-mm-dd hh:mm:ss');
  expect(serialToText(created.number)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  const beijingNow = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
  expect(Math.abs(Date.parse(serialToText(created.number)) - Date.parse(beijingNow))).toBeLessThan(15 * 60_000);

  await row.getByTestId('referrer-link').click();
  await expect(page).toHaveURL(/#\/rewards\?participant=\d+/);
  await expect(page.locator('.participant-drawer')).toContainText('王小明');
});

test('the reward records export and the link dialog that shows the whole link', async ({ page }) => {
  await useSession(page, session);
  await page.goto('/admin/#/rewards');
  await page.getByRole('tab', { name: '奖励记录' }).click();
  await pickOption(page, 'records-campaign', campaign.name);
  const download = page.waitForEvent('download');
  await page.getByTestId('records-export').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^奖励记录-.*-\d{8}\.xlsx$/);
  expect(readXlsx(fs.readFileSync(await file.path()))[0].map((c) => c.text)).toContain('推荐人手机号');

  await page.goto('/admin/#/campaigns');
  const campaignRow = page.locator('.el-table__body-wrapper .el-table__row', { hasText: campaign.name });
  await campaignRow.getByRole('button', { name: '链接' }).click();
  const dialog = page.getByTestId('h5-link-dialog');
  const box = dialog.getByTestId('h5-url');
  await expect(box).toHaveValue(campaign.h5Url);
  // nothing of the link is scrolled out of sight
  expect(await box.evaluate((el) => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1)).toBe(true);
  await dialog.screenshot({ path: path.join(SCREENSHOT_DIR, 'admin-link-dialog.png') });
});

test('an admin creates an account, changes its role and disables it', async ({ page, request }) => {
  const username = `e2e-acc-${Date.now()}`;
  await useSession(page, session);
  await page.goto('/admin/#/accounts');
  await page.getByTestId('account-new').click();
  const dialog = page.getByTestId('account-dialog');
  await dialog.getByTestId('account-username').fill(username);
  await dialog.getByTestId('account-password').fill('short');
  await dialog.getByText('只读').click();
  await dialog.getByTestId('account-save').click();
  await expect(dialog).toContainText('8');
  await dialog.getByTestId('account-password').fill('Viewer-12345');
  await dialog.getByTestId('account-save').click();
  await expect(dialog).toBeHidden();
  const row = page.getByTestId('account-table').locator('.el-table__row', { hasText: username });
  await expect(row).toContainText('正常');

  const viewer = await apiLogin(request, username, 'Viewer-12345');
  await row.getByTestId('account-role').click();
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '运营' }).click();
  await confirmBox(page);
  await expect(page.locator('.el-message--success', { hasText: '角色已变更' })).toBeVisible();
  expect((await request.get('/api/v1/auth/admin/me', { headers: authHeader(viewer.token) })).status()).toBe(401);
  await page.locator('.el-message').evaluateAll((els) => els.forEach((e) => e.remove()));
  await shot(page, 'admin-accounts');

  await row.getByTestId('account-disable').click();
  await confirmBox(page);
  await expect(row).toContainText('已停用');
  const refused = await request.post('/api/v1/auth/admin/login', { data: { username, password: 'Viewer-12345' } });
  expect(refused.status()).toBe(401);
});

test('anyone changes their own password and signs in again with it', async ({ page, request }) => {
  const username = `e2e-pw-${Date.now()}`;
  const made = await request.post('/api/v1/admin-users', {
    data: { username, password: 'Staff-12345', role: 'staff' },
    headers: authHeader(session.token),
  });
  expect(made.status()).toBe(201);
  await page.goto('/admin/#/sign-in');
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill('Staff-12345');
  await page.getByTestId('sign-in').click();
  await expect(page).toHaveURL(/#\/check-in/);

  await page.getByTestId('change-password').click();
  const dialog = page.getByTestId('password-dialog');
  await dialog.getByTestId('password-current').fill('wrong-one');
  await dialog.getByTestId('password-new').fill('Staff-67890');
  await dialog.getByTestId('password-again').fill('Staff-67890');
  await dialog.getByTestId('password-save').click();
  await expect(dialog).toContainText('当前密码不正确');
  await shot(page, 'admin-change-password');
  await dialog.getByTestId('password-current').fill('Staff-12345');
  await dialog.getByTestId('password-save').click();
  await expect(page).toHaveURL(/#\/sign-in/);
  await expect(page.locator('.el-message--success', { hasText: '密码已修改' })).toBeVisible();
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill('Staff-67890');
  await page.getByTestId('sign-in').click();
  await expect(page).toHaveURL(/#\/check-in/);
});

test('the dead letters tab lists entries with a replay action for operators', async ({ page }) => {
  await useSession(page, session);
  await page.goto('/admin/#/sync');
  const listed = page.waitForResponse((r) => r.url().includes('/api/v1/dead-letters'));
  await page.getByRole('tab', { name: '死信' }).click();
  const res = await listed;
  expect(res.status()).toBe(200);
  expect(res.url()).toContain('replayed=false');
  await expect(page.getByTestId('dead-table')).toBeVisible();
  await page.getByTestId('dead-filter').getByText('全部').click();
  await expect(page.getByTestId('dead-table')).toBeVisible();
  await shot(page, 'admin-dead-letters');
});

test('a refusal of the role reads 无权限执行此操作，请联系管理员, never Forbidden', async ({ page }) => {
  await useSession(page, session);
  // any 403 goes through the one HTTP client: make the campaign list answer one
  await page.route('**/api/v1/campaigns?*', (route) =>
    route.fulfill({ status: 403, contentType: 'application/problem+json', body: JSON.stringify({ title: 'Forbidden', status: 403 }) }),
  );
  await page.goto('/admin/#/campaigns');
  await expect(page.locator('.el-message--error')).toContainText('无权限执行此操作，请联系管理员');
  await expect(page.locator('body')).not.toContainText('Forbidden');
});
