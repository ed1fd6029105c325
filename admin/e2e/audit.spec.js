import path from 'node:path';
import { test, expect } from './fixtures.js';
import { apiLogin, useSession, authHeader, createCampaignApi, pickOption, SCREENSHOT_DIR } from './helpers.js';
import { AUDIT_ACTION } from '../src/api/labels.js';

let session;
let campaign;

test.beforeAll(async ({ request }) => {
  session = await apiLogin(request);
  campaign = await createCampaignApi(request, session.token);
  const published = await request.post(`/api/v1/campaigns/${campaign.id}/publish`, { headers: authHeader(session.token) });
  expect(published.status()).toBe(200);
  await request.post('/api/v1/auth/admin/login', { data: { username: 'nobody-e2e', password: 'wrong-password' } });
});

test('the admin finds a campaign publish in the audit log by action and opens the campaign', async ({ page }) => {
  await useSession(page, session);
  await page.goto('/admin/#/audit');
  await expect(page.getByTestId('menu')).toContainText('操作日志');
  const table = page.getByTestId('audit-table');
  await expect(table).toContainText('发布活动');
  await expect(table).toContainText('登录失败');
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'admin-audit-log.png') });

  await pickOption(page, 'audit-action', '发布活动');
  const answer = page.waitForResponse((r) => r.url().includes('/api/v1/audit-log?') && r.url().includes('action=campaign.publish'));
  await page.getByTestId('audit-search').click();
  expect((await answer).status()).toBe(200);
  const rows = table.locator('.el-table__body-wrapper .el-table__row');
  await expect(rows.first()).toContainText('发布活动');
  await expect(table).not.toContainText('登录失败');
  await expect(rows.first()).toContainText(`#${campaign.id}`);
  await expect(rows.first()).toContainText('admin');

  await rows.first().getByText(`#${campaign.id}`).click();
  await expect(page).toHaveURL(new RegExp(`#/campaigns/${campaign.id}$`));
});

test('the action filter offers exactly the actions the API accepts', async ({ request }) => {
  const res = await request.get('/api/v1/audit-log/actions', { headers: authHeader(session.token) });
  expect(res.status()).toBe(200);
  expect(Object.keys(AUDIT_ACTION).sort()).toEqual((await res.json()).sort());
});

test('an operator has no audit log menu and the API answers 403', async ({ page, request }) => {
  const username = `e2e-op-${Date.now()}`;
  const created = await request.post('/api/v1/admin-users', {
    data: { username, password: 'Operator-123', role: 'operator' },
    headers: authHeader(session.token),
  });
  expect(created.status()).toBe(201);
  const op = await apiLogin(request, username, 'Operator-123');
  expect((await request.get('/api/v1/audit-log', { headers: authHeader(op.token) })).status()).toBe(403);
  await useSession(page, op);
  await page.goto('/admin/#/audit');
  await expect(page).toHaveURL(/#\/dashboard/);
  await expect(page.getByTestId('menu')).not.toContainText('操作日志');
});
