import { expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ADMIN_USER = process.env.DMH_ADMIN_USER || 'admin';
export const ADMIN_PASSWORD = process.env.DMH_ADMIN_PASSWORD || '';
export const VIEWER_USER = process.env.DMH_VIEWER_USER || '';
export const VIEWER_PASSWORD = process.env.DMH_VIEWER_PASSWORD || '';

const here = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.resolve(here, '..', 'test-results');
export const SCREENSHOT_DIR = path.join(RESULTS_DIR, 'screenshots');

/** Signs in through the API and returns `{token, expiresAt, user}`. */
export async function apiLogin(request, username = ADMIN_USER, password = ADMIN_PASSWORD) {
  const res = await request.post('/api/v1/auth/admin/login', { data: { username, password } });
  expect(res.status(), `admin login as ${username}`).toBe(200);
  return res.json();
}

/** Puts a session into localStorage before the app loads (skips the sign-in form). */
export async function useSession(page, session) {
  await page.addInitScript((s) => localStorage.setItem('dmh.admin.session', JSON.stringify(s)), session);
}

/** Signs in through the form. */
export async function signIn(page, username = ADMIN_USER, password = ADMIN_PASSWORD) {
  await page.goto('/admin/#/sign-in');
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('sign-in').click();
  await expect(page).toHaveURL(/#\/dashboard/);
}

export const authHeader = (token) => ({ Authorization: `Bearer ${token}` });

export function unique(prefix = 'E2E') {
  return `${prefix} ${new Date()
    .toISOString()
    .replace(/[-:T.Z]/g, '')
    .slice(0, 14)}-${Math.floor(Math.random() * 1000)}`;
}

/** An ISO time `days` from now with +08:00, seconds dropped. */
export function shanghaiIso(days) {
  const d = new Date(Date.now() + days * 86400000 + 8 * 3600000);
  return d.toISOString().slice(0, 19).replace(/\d\d$/, '00') + '+08:00';
}

/** Creates a campaign through the API (used to set up data other specs need). */
export async function createCampaignApi(request, token, over = {}) {
  const body = {
    name: unique('E2E 活动'),
    description: '浏览器测试创建',
    coverUrl: null,
    startTime: shanghaiIso(-1),
    endTime: shanghaiIso(30),
    priceFen: 9900,
    reward: { type: 'fixed', amountFen: 1000 },
    payment: { description: '报名费' },
    requireSms: false,
    formSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { name: { title: '姓名', type: 'string', 'x-widget': 'text', 'x-order': 1, maxLength: 50 } },
      required: ['name'],
    },
    ...over,
  };
  const res = await request.post('/api/v1/campaigns', { data: body, headers: authHeader(token) });
  expect(res.status(), await res.text()).toBe(201);
  return res.json();
}

export function writeResult(name, data) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.writeFileSync(path.join(RESULTS_DIR, name), JSON.stringify(data, null, 2));
}

/** Confirms the open ElMessageBox. */
export async function confirmBox(page) {
  const box = page.locator('.el-message-box');
  await expect(box).toBeVisible();
  await box.locator('.el-button--primary').click();
}

/** Picks an option in an Element Plus select identified by data-test. */
export async function pickOption(page, testId, label) {
  await page.getByTestId(testId).click();
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: label }).first().click();
}
