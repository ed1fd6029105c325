import path from 'node:path';
import { test, expect } from './fixtures.js';
import { apiLogin, useSession, authHeader, unique, confirmBox, createCampaignApi, SCREENSHOT_DIR } from './helpers.js';

// Issue 20 item 6 (campaign editing); item 5 (approval) with approval off here, on in approval.spec.js.
const shot = (page, name) => page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });

test('a draft saves without a time window; required fields are marked; keys follow the title until edited', async ({ page, request }) => {
  const session = await apiLogin(request);
  await useSession(page, session);
  await page.goto('/admin/#/campaigns/new');
  const name = unique('草稿无时间');
  await page.getByTestId('name').fill(name);

  // 活动名称, 活动时间, 报名费 and 支付说明 carry the required mark.
  for (const label of ['活动名称', '活动时间', '报名费（元）', '支付说明']) {
    await expect(
      page.locator('.el-form-item.is-required').filter({ has: page.locator('.el-form-item__label', { hasText: label }) }),
    ).toHaveCount(1);
  }

  // A new campaign asks for the name at once; a new field's key follows its title.
  await expect(page.getByTestId('field-item')).toHaveCount(1);
  await page.getByTestId('add-text').click();
  await page.getByTestId('field-label').fill('公司名称');
  await expect(page.getByTestId('field-key')).toHaveValue('company');
  await page.getByTestId('field-label').fill('你最想解决的问题');
  await expect(page.getByTestId('field-key')).toHaveValue(/^field_\d+$/);
  await page.getByTestId('field-key').fill('pain_point');
  await page.getByTestId('field-label').fill('公司');
  await expect(page.getByTestId('field-key')).toHaveValue('pain_point');
  await shot(page, 'f20-campaign-new');

  // No time window: the draft saves.
  await page.getByTestId('start-time').locator('input').fill('');
  await page.getByTestId('start-time').locator('input').press('Enter');
  await page.getByTestId('save').click();
  await expect(page).toHaveURL(/#\/campaigns\/\d+/);
  const id = Number(/#\/campaigns\/(\d+)/.exec(page.url())[1]);
  const stored = await (await request.get(`/api/v1/campaigns/${id}`, { headers: authHeader(session.token) })).json();
  expect(stored).toMatchObject({ name, status: 'draft', startTime: null, endTime: null });
  expect(Object.keys(stored.formSchema.properties)).toEqual(['name', 'pain_point']);

  // Publishing asks for the window before anything else.
  await page.getByTestId('publish').click();
  await expect(page.locator('.el-form-item__error')).toContainText('发布前请选择开始和结束时间');
  await expect(page.locator('.el-message-box')).toHaveCount(0);
});

test('保存并发布 confirms before saving; cancelling saves nothing; confirming lands on the campaign with its link', async ({
  page,
  request,
}) => {
  const session = await apiLogin(request);
  await useSession(page, session);
  await page.goto('/admin/#/campaigns/new');
  const name = unique('先确认后保存');
  await page.getByTestId('name').fill(name);
  await page.getByTestId('end-time').locator('input').click();
  const panel = page.locator('.el-picker-panel:visible');
  await panel.locator('td.available:not(.today)').last().click();
  await panel.getByRole('button', { name: /确定|OK/ }).click();
  await expect(page.getByTestId('end-time').locator('input')).toHaveValue(/ 23:59:59$/);

  await page.getByTestId('publish').click();
  const box = page.locator('.el-message-box');
  await expect(box).toContainText(name);
  await expect(box).toContainText('23:59:59');
  await shot(page, 'f20-publish-confirm');
  await box.getByRole('button', { name: '取消' }).click();
  await expect(page).toHaveURL(/#\/campaigns\/new/);
  const listed = await (
    await request.get(`/api/v1/campaigns?q=${encodeURIComponent(name)}`, { headers: authHeader(session.token) })
  ).json();
  expect(listed.total).toBe(0);

  await page.getByTestId('publish').click();
  await confirmBox(page);
  await expect(page).toHaveURL(/#\/campaigns\/\d+/);
  await expect(page.getByTestId('h5-link-dialog').getByTestId('h5-qr')).toBeVisible();
  await expect(page.getByTestId('campaign-status-tag')).toHaveText(/进行中|未开始/);
});

test('手机预览 of a draft: a QR of a signed link that shows the draft on a phone without publishing it', async ({
  page,
  request,
  browser,
}) => {
  const session = await apiLogin(request);
  await useSession(page, session);
  const campaign = await createCampaignApi(request, session.token, { name: unique('预览草稿') });
  await page.goto(`/admin/#/campaigns/${campaign.id}`);
  await page.getByTestId('phone-preview').click();
  const dialog = page.getByTestId('phone-preview-dialog');
  await expect(dialog.getByTestId('phone-preview-qr')).toBeVisible();
  await expect(dialog).toContainText('草稿不会因此发布');
  await shot(page, 'f20-phone-preview-dialog');
  const href = await dialog.getByTestId('phone-preview-open').getAttribute('href');
  expect(href).toMatch(/#\/pages\/campaign\/index\?id=\d+&preview=\d+\.\d+\.[\w-]+$/);

  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  });
  const h5 = await phone.newPage();
  const u = new URL(href);
  await h5.goto(u.pathname + u.hash);
  await expect(h5.locator('[data-testid="preview-banner"]')).toBeVisible();
  await expect(h5.locator('[data-testid="submit"]')).toHaveText(/预览中，不能报名/);
  await expect(h5.locator('[data-testid="submit"]')).toHaveAttribute('disabled', 'true');
  await h5.screenshot({ path: path.join(SCREENSHOT_DIR, 'f20-h5-preview.png') });
  // Without the token the draft is not there, and the campaign is still a draft (a fresh page: a hash
  // change alone keeps the page that is already loaded).
  const plain = await phone.newPage();
  await plain.goto(`/h5/#/pages/campaign/index?id=${campaign.id}`);
  await expect(plain.locator('[data-testid="load-error"]')).toContainText('活动不存在或未发布');
  await phone.close();
  const stored = await (await request.get(`/api/v1/campaigns/${campaign.id}`, { headers: authHeader(session.token) })).json();
  expect(stored.status).toBe('draft');
});

test('without approval (the default deployment) the editor shows no approval controls and publishing works at once', async ({
  page,
  request,
}) => {
  // The approval-on path is approval.spec.js, run against the Ingress with Campaigns__RequireApproval=true.
  const admin = await apiLogin(request);
  const settings = await (await request.get('/api/v1/campaigns/settings', { headers: authHeader(admin.token) })).json();
  expect(settings.requireApproval).toBe(false);
  const campaign = await createCampaignApi(request, admin.token, { name: unique('免审核活动') });
  await useSession(page, admin);
  await page.goto(`/admin/#/campaigns/${campaign.id}`);
  await page.reload();
  await expect(page.getByTestId('phone-preview')).toBeVisible();
  await expect(page.getByTestId('approval-tag')).toHaveCount(0);
  await expect(page.getByTestId('submit-approval')).toHaveCount(0);
  await expect(page.getByTestId('menu-pending-approval')).toHaveCount(0);
  const published = await request.post(`/api/v1/campaigns/${campaign.id}/publish`, { headers: authHeader(admin.token) });
  expect(published.status(), await published.text()).toBe(200);
  await page.goto('/admin/#/campaigns');
  await expect(page.getByTestId('campaign-table')).toBeVisible();
  await expect(page.getByTestId('approval-tabs')).toHaveCount(0);
});
