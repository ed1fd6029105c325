import { test, expect } from './fixtures.js';
import fs from 'node:fs';
import path from 'node:path';
import QRCode from 'qrcode';
import { apiLogin, useSession, authHeader, createCampaignApi, unique, SCREENSHOT_DIR } from './helpers.js';

// Issue 20 item 1: check-in (核销) by a staff account on a phone, by typed code and by the camera.
test.describe.configure({ mode: 'serial' });

const PHONE_VIEW = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const STAFF_PASSWORD = 'Staff-e2e-password-1';
let admin;
let campaign;
let staffName;
const codes = {};

async function register(request, name) {
  const phone = `137${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const res = await request.post('/api/v1/orders', { data: { campaignId: campaign.id, phone, formData: { name } } });
  expect(res.status(), await res.text()).toBe(201);
  const order = await res.json();
  expect(order.status, 'a free registration is paid at once').toBe('paid');
  return order.registrationCode;
}

async function shot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

test.beforeAll(async ({ request }) => {
  admin = await apiLogin(request);
  campaign = await createCampaignApi(request, admin.token, {
    name: unique('核销测试'),
    priceFen: 0,
    reward: { type: 'fixed', amountFen: 0 },
  });
  const pub = await request.post(`/api/v1/campaigns/${campaign.id}/publish`, { headers: authHeader(admin.token) });
  expect(pub.ok(), await pub.text()).toBeTruthy();
  codes.typed = await register(request, '陈晓红');
  codes.scan = await register(request, '刘建国');
  staffName = `staff${Date.now() % 1e8}`;
  const staff = await request.post('/api/v1/admin-users', {
    headers: authHeader(admin.token),
    data: { username: staffName, password: STAFF_PASSWORD, role: 'staff' },
  });
  expect(staff.status(), await staff.text()).toBe(201);
});

test('staff signs in on a phone, checks in a typed code once, and undoes it with a reason', async ({ browser }) => {
  const context = await browser.newContext({ ...PHONE_VIEW });
  const page = await context.newPage();
  await page.goto('/admin/#/sign-in');
  await page.getByTestId('username').fill(staffName);
  await page.getByTestId('password').fill(STAFF_PASSWORD);
  await page.getByTestId('sign-in').click();
  await expect(page).toHaveURL(/#\/check-in/);
  await expect(page.getByTestId('current-role')).toHaveText('核销员');
  // Staff reads no orders: another page sends it back to check-in.
  await page.goto('/admin/#/orders');
  await expect(page).toHaveURL(/#\/check-in/);

  await page.getByTestId('checkin-code').fill('NOPE23456');
  await page.getByTestId('checkin-lookup').click();
  await expect(page.getByTestId('checkin-error')).toContainText('未找到该报名码');
  await page.getByTestId('checkin-code').fill(codes.typed.toLowerCase());
  await expect(page.getByTestId('checkin-error')).toHaveCount(0);
  await page.getByTestId('checkin-lookup').click();
  const card = page.getByTestId('checkin-card');
  await expect(card.getByTestId('checkin-name')).toHaveText('陈晓红');
  await expect(card).toContainText(campaign.name);
  await shot(page, 'k20-checkin-phone-lookup');
  await page.getByTestId('checkin-confirm').click();
  await expect(card.getByTestId('checkin-done')).toContainText(staffName);
  await expect(page.getByTestId('checkin-confirm')).toHaveCount(0);
  await expect(page.getByTestId('checkin-list')).toContainText('陈晓红');
  await shot(page, 'k20-checkin-phone-done');

  // The same code again: shown as already checked in, nothing to confirm.
  await page.getByTestId('checkin-lookup').click();
  await expect(card.getByTestId('checkin-done')).toBeVisible();
  await expect(page.getByTestId('checkin-confirm')).toHaveCount(0);

  await page.getByTestId('checkin-undo').click();
  const box = page.locator('.el-message-box');
  await box.getByRole('button', { name: '撤销核销' }).click();
  await expect(box).toContainText('撤销原因必填');
  await box.locator('input').fill('误核销：家长代领');
  await box.getByRole('button', { name: '撤销核销' }).click();
  await expect(page.getByTestId('checkin-confirm')).toBeVisible();
  await context.close();
});

test('staff checks in by scanning the QR of the success page with the camera', async ({ browser }) => {
  const context = await browser.newContext({ ...PHONE_VIEW });
  const qr = await QRCode.toDataURL(codes.scan, { margin: 2, width: 300 });
  // A camera that films the registrant's phone screen showing the QR (the page's getUserMedia is fed this canvas).
  await context.addInitScript((dataUrl) => {
    navigator.mediaDevices.getUserMedia = async () => {
      const img = new Image();
      img.src = dataUrl;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 480;
      const ctx = canvas.getContext('2d');
      const draw = () => {
        ctx.fillStyle = '#d9d4cc';
        ctx.fillRect(0, 0, 640, 480);
        ctx.drawImage(img, 190, 110, 260, 260);
      };
      draw();
      setInterval(draw, 100);
      return canvas.captureStream(10);
    };
  }, qr);
  const page = await context.newPage();
  const staff = await apiLogin(page.request, staffName, STAFF_PASSWORD);
  await useSession(page, staff);
  await page.goto('/admin/#/check-in');
  await page.getByTestId('checkin-scan').click();
  await expect(page.getByTestId('scanner').or(page.getByTestId('checkin-card'))).toBeVisible();
  const card = page.getByTestId('checkin-card');
  await expect(card.getByTestId('checkin-name')).toHaveText('刘建国', { timeout: 15_000 });
  await page.getByTestId('checkin-confirm').click();
  await expect(card.getByTestId('checkin-done')).toBeVisible();
  await expect(page.getByTestId('checkin-list')).toContainText('扫码');
  await shot(page, 'k20-checkin-phone-scan');
  await context.close();
});

test('admins see the count on the dashboard, the list per campaign, and export the check-ins', async ({ page }) => {
  await useSession(page, admin);
  await page.goto('/admin/#/dashboard');
  await expect(page.getByTestId('dash-checkins')).toContainText('现场核销');
  await page.goto('/admin/#/check-in');
  await page.getByTestId('checkin-campaign').click();
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: campaign.name }).first().click();
  await expect(page.getByTestId('checkin-summary')).toHaveText('已核销 1 / 已支付 2');
  await expect(page.getByTestId('checkin-list').locator('.el-table__row')).toHaveCount(1);
  await page.getByText('含已撤销').click();
  await expect(page.getByTestId('checkin-list').locator('.el-table__row')).toHaveCount(2);
  await shot(page, 'k20-checkin-desktop');

  const download = page.waitForEvent('download');
  await page.getByTestId('checkin-export').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(new RegExp(`^check-ins-campaign-${campaign.id}-\\d{8}\\.csv$`));
  const bytes = fs.readFileSync(await file.path());
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = bytes.subarray(3).toString('utf8').trim().split('\r\n');
  expect(lines[0]).toContain('核销ID,订单ID,活动ID,活动名称,姓名,手机号,报名码,核销时间,核销人,方式,状态,撤销时间,撤销人,撤销原因');
  expect(lines).toHaveLength(3);
  const undone = lines.find((l) => l.includes('陈晓红'));
  expect(undone).toContain('已撤销');
  expect(undone).toContain('误核销：家长代领');
  expect(undone).toMatch(/,\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},/);
  expect(lines.find((l) => l.includes('刘建国'))).toContain('扫码');
});
