import { test, expect } from './fixtures.js';
import path from 'node:path';
import fs from 'node:fs';
import { apiLogin, useSession, authHeader, confirmBox, SCREENSHOT_DIR } from './helpers.js';
import { rewardCampaign, register, registerAndPay, rewardsOf, uniquePhone } from './rewardsHelpers.js';

// Issue 17 screens against the real backend: the rewards page (referrers, records, participant
// ledger, admin adjustment) and refund / close on the order drawer.
test.describe.configure({ mode: 'serial' });

let session;
let campaign;
let referrer; // { phone, name, orderId, referralCode, userId }
let friendOrderId;
let friendPhone;

async function shot(page, name) {
  await page.waitForLoadState('networkidle');
  await expect(page.locator('.el-loading-mask:visible')).toHaveCount(0);
  await page.waitForTimeout(300);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

test.beforeAll(async ({ request }) => {
  session = await apiLogin(request);
  campaign = await rewardCampaign(request, session.token, {
    holdDays: 7,
    levels: [
      { type: 'fixed', amountFen: 1000 },
      { type: 'fixed', amountFen: 200 },
    ],
    caps: { totalFen: null, count: null, dailyFen: null },
  });
  const phone = uniquePhone();
  const name = `李推荐${phone.slice(-4)}`;
  const paid = await registerAndPay(request, campaign.id, { phone, name });
  referrer = { phone, name, ...paid };
  friendPhone = uniquePhone();
  const friend = await registerAndPay(request, campaign.id, { phone: friendPhone, name: '王小红', uId: referrer.referralCode });
  friendOrderId = friend.orderId;
  const [reward] = await rewardsOf(request, session.token, friendOrderId, 1);
  referrer.userId = reward.userId;
});

/** The referrer's row, looked up by phone: other suites leave bigger referrers on the first page. */
async function referrerRow(page) {
  await page.getByTestId('referrer-phone').fill(referrer.phone);
  await page.getByTestId('referrer-search').click();
  return page.getByTestId('referrer-table').locator('.el-table__row', { hasText: referrer.name });
}

test('the rewards page lists the referrer by name with frozen, available and total, and filters records by status', async ({ page }) => {
  await useSession(page, session);
  await page.goto('/admin/#/rewards');
  const row = await referrerRow(page);
  await expect(row).toBeVisible();
  await expect(row).toContainText(`${referrer.phone.slice(0, 3)}****${referrer.phone.slice(-4)}`);
  await expect(row).toContainText('¥10.00'); // frozen (7 days) and the total
  await shot(page, '08-rewards');

  await page.getByRole('tab', { name: '奖励记录' }).click();
  const records = page.getByTestId('records-table');
  await expect(records.locator('.el-table__row', { hasText: referrer.name }).first()).toBeVisible();
  const filtered = page.waitForRequest((r) => r.url().includes('/api/v1/rewards/records?') && r.url().includes('status=frozen'));
  await page.getByTestId('records-status').click();
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '冻结中' }).click();
  await filtered;
  const mine = records.locator('.el-table__row', { hasText: referrer.name }).first();
  await expect(mine).toContainText('冻结中');
  await expect(mine).toContainText(campaign.name);
  await expect(mine).toContainText('一级');
  await shot(page, '12-reward-records');

  const reversed = page.waitForRequest((r) => r.url().includes('status=reversed'));
  await page.getByTestId('records-status').click();
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: '已冲正' }).click();
  await reversed;
  await expect(records.locator('.el-table__row', { hasText: referrer.name })).toHaveCount(0);
});

test('the participant drawer shows balance cards and the ledger; an admin adjusts the balance with a reason', async ({ page }) => {
  await useSession(page, session);
  await page.goto('/admin/#/rewards');
  await (await referrerRow(page)).click();
  const drawer = page.getByTestId('reward-drawer');
  await expect(drawer).toContainText(referrer.name);
  await expect(drawer.getByTestId('card-frozen')).toContainText('¥10.00');
  await expect(drawer.getByTestId('card-available')).toContainText('¥0.00');
  await expect(drawer.getByTestId('card-total')).toContainText('¥10.00');
  const ledger = drawer.getByTestId('ledger-table');
  await expect(ledger.locator('.el-table__row').first()).toContainText('奖励入账');
  await expect(ledger.locator('.el-table__row').first()).toContainText('+¥10.00');

  await drawer.getByTestId('adjust-open').click();
  const dialog = page.getByTestId('adjust-dialog');
  await dialog.getByTestId('adjust-submit').click();
  await expect(dialog).toContainText('请填写调整金额');
  await expect(dialog).toContainText('请填写调整原因');
  await dialog.getByTestId('adjust-amount').locator('input').fill('5');
  await dialog.getByTestId('adjust-amount').locator('input').blur();
  await dialog.getByTestId('adjust-reason').fill('线下活动补发奖励');
  await shot(page, '13-reward-adjust');
  const posted = page.waitForRequest((r) => r.url().endsWith(`/api/v1/rewards/${referrer.userId}/adjustments`));
  await dialog.getByTestId('adjust-submit').click();
  await confirmBox(page);
  expect((await posted).postDataJSON()).toEqual({ amountFen: 500, reason: '线下活动补发奖励' });
  await expect(drawer.getByTestId('card-available')).toContainText('¥5.00');
  const first = ledger.locator('.el-table__row').first();
  await expect(first).toContainText('人工调整');
  await expect(first).toContainText('线下活动补发奖励');
  await expect(first).toContainText('+¥5.00');
  await shot(page, '09-reward-ledger');
});

test('an operator sees the ledger but no 调整余额', async ({ page }) => {
  const asOperator = { ...session, user: { ...session.user, role: 'operator' } };
  await page.route('**/api/v1/auth/admin/me', (route) => route.fulfill({ json: asOperator.user }));
  await useSession(page, asOperator);
  await page.goto('/admin/#/rewards');
  await (await referrerRow(page)).click();
  const drawer = page.getByTestId('reward-drawer');
  await expect(drawer.getByTestId('ledger-table').locator('.el-table__row').first()).toBeVisible();
  await expect(drawer.getByTestId('adjust-open')).toHaveCount(0);
});

test('the order drawer refunds part of a paid order, lists the refund and shows the reward reversed in proportion', async ({
  page,
  request,
}) => {
  await useSession(page, session);
  await page.goto('/admin/#/orders');
  await page.getByTestId('filter-phone').fill(friendPhone);
  await page.getByTestId('filter-search').click();
  const row = page.getByTestId('order-table').locator('.el-table__body-wrapper .el-table__row');
  await expect(row).toHaveCount(1);
  await row.first().click();
  const drawer = page.getByTestId('order-drawer');
  await expect(drawer).toContainText(`订单详情 #${friendOrderId}`);
  await expect(drawer.getByTestId('order-refundable')).toContainText('¥99.00');
  await expect(drawer.getByTestId('order-rewards')).toContainText('冻结中');

  await drawer.getByTestId('order-refund').click();
  const dialog = page.getByTestId('refund-dialog');
  await expect(dialog.getByTestId('refund-amount').locator('input')).toHaveValue('99.00'); // what is refundable
  await dialog.getByTestId('refund-amount').locator('input').fill('49.50');
  await dialog.getByTestId('refund-amount').locator('input').blur();
  await dialog.getByTestId('refund-submit').click();
  await expect(dialog).toContainText('请填写退款原因');
  await dialog.getByTestId('refund-reason').fill('学员临时有事，退一半');
  await shot(page, '14-order-refund');
  const posted = page.waitForRequest((r) => r.url().endsWith(`/api/v1/orders/${friendOrderId}/refund`));
  await dialog.getByTestId('refund-submit').click();
  await confirmBox(page);
  expect((await posted).postDataJSON()).toEqual({ amountFen: 4950, reason: '学员临时有事，退一半' });

  const refunds = drawer.getByTestId('order-refunds');
  await expect(refunds).toContainText(`R${friendOrderId}-1`);
  await expect(refunds).toContainText('¥49.50');
  await expect(refunds).toContainText('学员临时有事，退一半');
  await expect(drawer.getByTestId('order-refundable')).toContainText('¥49.50');

  // once WeChat's refund notify is in, half of the ¥10 reward is reversed
  await expect
    .poll(
      async () => {
        const d = await (await request.get(`/api/v1/orders/${friendOrderId}/detail`, { headers: authHeader(session.token) })).json();
        return d.rewards[0].reversedFen;
      },
      { timeout: 20_000 },
    )
    .toBe(500);
  await page.getByTestId('order-drawer').locator('.el-drawer__close-btn').click();
  await row.first().click();
  await expect(drawer.getByTestId('order-refunds')).toContainText('已退款');
  await expect(drawer.getByTestId('order-rewards')).toContainText('-¥5.00');
  await shot(page, '07-order-detail');
});

test('the order drawer closes an unpaid order', async ({ page, request }) => {
  const phone = uniquePhone();
  const { orderId } = await register(request, campaign.id, { phone, name: '未付款' });
  await useSession(page, session);
  await page.goto('/admin/#/orders');
  await page.getByTestId('filter-phone').fill(phone);
  await page.getByTestId('filter-search').click();
  await page.getByTestId('order-table').locator('.el-table__body-wrapper .el-table__row').first().click();
  const drawer = page.getByTestId('order-drawer');
  await expect(drawer).toContainText(`订单详情 #${orderId}`);
  await expect(drawer.getByTestId('order-refund')).toHaveCount(0);
  await drawer.getByTestId('order-close').click();
  await confirmBox(page);
  await expect(drawer).toContainText('已关闭');
  await expect(drawer.getByTestId('order-close')).toHaveCount(0);
});
