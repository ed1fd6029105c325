import path from 'node:path';
import { test, expect } from './fixtures.js';
import { apiLogin, authHeader, confirmBox, signIn, unique, SCREENSHOT_DIR } from './helpers.js';

// Issue 20 item 5, campaign approval, as the people who use it: an operator and an admin signing in and
// out of the same browser. Runs in the `approval` project (playwright.config.js), against the Ingress
// that ./dmh test admin-e2e starts with Campaigns__RequireApproval=true on the same databases.
/** A screenshot once toasts, loading masks and tab transitions are gone. */
async function shot(page, name) {
  await expect(page.locator('.el-message')).toHaveCount(0, { timeout: 8000 });
  await expect(page.locator('.el-loading-mask:visible')).toHaveCount(0);
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

const MOBILE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

/** A Beijing wall time `days` from now, e.g. "2027-01-05 23:59:59". */
function wall(days, time) {
  return `${new Date(Date.now() + days * 86400000 + 8 * 3600000).toISOString().slice(0, 10)} ${time}`;
}

async function signOut(page) {
  await page.getByTestId('sign-out').click();
  await confirmBox(page);
  await expect(page).toHaveURL(/#\/sign-in/);
}

/** The campaign's row in the list, found by name under one of the approval tabs. */
async function rowIn(page, tab, name) {
  await page.goto('/admin/#/campaigns');
  await page.getByTestId('campaign-search').fill(name);
  await page.getByTestId(`approval-tab-${tab}`).click();
  await expect(page).toHaveURL(new RegExp(`approval=${tab}$`));
  const row = page.getByTestId('campaign-table').locator('.el-table__row', { hasText: name });
  await expect(row).toHaveCount(1);
  return row;
}

test('approval: an operator submits, an admin rejects with a reason, the operator fixes it, the admin approves and it goes live', async ({
  page,
  request,
  browser,
}) => {
  // Four sign-ins and two roles' screens: about 30 s on a quiet machine, twice that on a busy one.
  test.setTimeout(180_000);
  const admin = await apiLogin(request);
  const settings = await (await request.get('/api/v1/campaigns/settings', { headers: authHeader(admin.token) })).json();
  expect(
    settings.requireApproval,
    'this project needs an Ingress with Campaigns__RequireApproval=true (./dmh test admin-e2e starts one)',
  ).toBe(true);
  const operatorName = `op${Date.now() % 1e8}`;
  const operatorPassword = 'operator-pass-1';
  const created = await request.post('/api/v1/admin-users', {
    headers: authHeader(admin.token),
    data: { username: operatorName, password: operatorPassword, role: 'operator' },
  });
  expect(created.status(), await created.text()).toBe(201);
  const name = unique('冬季训练营');
  const reason = '封面使用了未授权的图片，请更换；活动介绍请写明上课地点';

  // 1. The operator writes a campaign: it can only be submitted, never published.
  await signIn(page, operatorName, operatorPassword);
  await expect(page.getByTestId('menu-pending-approval')).toHaveCount(0);
  await page.goto('/admin/#/campaigns/new');
  await page.getByTestId('name').fill(name);
  await page.getByTestId('description').fill('三天线上实战课，名额有限');
  await page.getByTestId('end-time').locator('input').fill(wall(30, '23:59:59'));
  await page.getByTestId('end-time').locator('input').press('Enter');
  await page.getByTestId('name').click();
  await page.getByTestId('price').locator('input').fill('49');
  await page.getByTestId('price').locator('input').blur();
  await expect(page.getByTestId('publish')).toHaveCount(0);
  await expect(page.getByTestId('submit-approval')).toHaveText('保存并提交审核');
  await page.getByTestId('submit-approval').click();
  await expect(page.locator('.el-message-box')).toContainText('审核通过后活动自动发布');
  await confirmBox(page);
  await expect(page).toHaveURL(/#\/campaigns\/\d+$/);
  const id = Number(/#\/campaigns\/(\d+)/.exec(page.url())[1]);
  await expect(page.getByTestId('approval-tag')).toHaveText('待审核');
  await expect(page.getByTestId('approval-pending')).toContainText('已提交审核');
  await expect(page.getByTestId('submit-approval')).toHaveText('审核中');
  await expect(page.getByTestId('submit-approval')).toBeDisabled();
  await shot(page, 'f20-approval-submitted');

  const operator = await apiLogin(request, operatorName, operatorPassword);
  const publish = await request.post(`/api/v1/campaigns/${id}/publish`, { headers: authHeader(operator.token) });
  expect(publish.status()).toBe(409);
  expect((await publish.json()).type).toMatch(/approval-required$/);
  expect((await request.get(`/api/v1/campaigns/${id}/form`)).status()).toBe(404);
  let row = await rowIn(page, 'pending', name);
  await expect(row.getByTestId('row-approval')).toHaveText('待审核');
  await expect(row.getByTestId('row-publish')).toHaveCount(0);
  await signOut(page);

  // 2. The admin sees it waiting (the menu's count, the 待审核 tab) and rejects it with a reason.
  await signIn(page);
  await expect(page.getByTestId('menu-pending-approval')).toBeVisible();
  await page.getByTestId('menu').getByText('活动管理').click();
  await expect(page.getByTestId('pending-count')).toBeVisible();
  await page.getByTestId('approval-tab-pending').click();
  row = page.getByTestId('campaign-table').locator('.el-table__row', { hasText: name });
  await expect(row).toContainText(`${operatorName} 于`);
  await expect(row).toContainText('提交');
  await expect(row.getByTestId('row-approval')).toHaveText('待审核');
  await shot(page, 'f20-approval-waiting-list');
  await row.getByTestId('row-review').click();
  await expect(page).toHaveURL(new RegExp(`#/campaigns/${id}$`));
  await expect(page.getByTestId('approval-pending')).toContainText('等待你审核');
  await expect(page.getByTestId('approval-pending')).toContainText(operatorName);
  await page.getByTestId('reject').click();
  const dialog = page.getByTestId('reject-dialog');
  await expect(dialog).toContainText(name);
  await dialog.getByTestId('reject-confirm').click();
  await expect(dialog).toContainText('请填写驳回原因');
  await dialog.getByTestId('reject-preset').filter({ hasText: '封面图片不清晰或未获授权' }).click();
  await expect(dialog.getByTestId('reject-reason')).toHaveValue('封面图片不清晰或未获授权');
  await dialog.getByTestId('reject-reason').fill(reason);
  await shot(page, 'f20-approval-reject-dialog');
  await dialog.getByTestId('reject-confirm').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('approval-tag')).toHaveText('审核驳回');
  await expect(page.getByTestId('approve')).toHaveCount(0);
  await signOut(page);

  // 3. The operator sees the reason in the list and on the campaign, fixes it and submits again.
  await signIn(page, operatorName, operatorPassword);
  row = await rowIn(page, 'rejected', name);
  await expect(row.getByTestId('row-approval')).toHaveText('审核驳回');
  await expect(row.getByTestId('row-approval-reason')).toContainText(reason);
  await expect(row.getByTestId('row-publish')).toHaveCount(0);
  await shot(page, 'f20-approval-list-rejected');
  await row.getByText(name).click();
  await expect(page.getByTestId('approval-reason')).toContainText(`审核未通过：${reason}`);
  await expect(page.getByTestId('approval-reason')).toContainText('admin 于');
  await shot(page, 'f20-approval-rejected');
  await page.getByTestId('description').fill('三天线上实战课，上课地点：腾讯会议（报名后短信通知）');
  await expect(page.getByTestId('submit-approval')).toHaveText('保存并提交审核');
  await page.getByTestId('submit-approval').click();
  await confirmBox(page);
  await expect(page.getByTestId('approval-tag')).toHaveText('待审核');
  await expect(page.getByTestId('approval-reason')).toHaveCount(0);
  await signOut(page);

  // 4. The admin approves it, which publishes it: the H5 link works.
  await signIn(page);
  row = await rowIn(page, 'pending', name);
  await row.getByTestId('row-review').click();
  await expect(page.getByTestId('description')).toHaveValue(/腾讯会议/);
  await expect(page.getByTestId('approve')).toHaveText('通过并发布');
  await page.getByTestId('approve').click();
  await expect(page.locator('.el-message-box')).toContainText('立即发布');
  await shot(page, 'f20-approval-approve-confirm');
  await confirmBox(page);
  const linkDialog = page.getByTestId('h5-link-dialog');
  await expect(linkDialog.getByTestId('h5-qr')).toBeVisible();
  await expect(page.getByTestId('campaign-status-tag')).toHaveText('进行中');
  await expect(page.getByTestId('approval-tag')).toHaveText('审核通过');
  const h5Url = await linkDialog.getByTestId('h5-url').inputValue();
  expect(h5Url).toContain(`id=${id}`);

  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    userAgent: MOBILE_UA,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const h5 = await phone.newPage();
  const res = await h5.goto(h5Url);
  expect(res.status()).toBeLessThan(400);
  await expect(h5.getByText(name).first()).toBeVisible();
  await expect(h5.locator('[data-testid="submit"]')).toHaveText('立即报名');
  await phone.close();
  expect((await (await request.get(`/api/v1/campaigns/${id}/form`)).json()).state).toBe('live');

  // The audit log has the three decisions' lines.
  const audit = await (
    await request.get(`/api/v1/audit-log?targetType=campaign&targetId=${id}&pageSize=20`, { headers: authHeader(admin.token) })
  ).json();
  const actions = audit.items.map((e) => e.action);
  for (const a of ['campaign.submit', 'campaign.reject', 'campaign.approve']) expect(actions).toContain(a);
});
