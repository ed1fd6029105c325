import { expect } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const ADMIN_USER = process.env.DMH_ADMIN_USER || 'admin';
export const ADMIN_PASSWORD = process.env.DMH_ADMIN_PASSWORD || '';
/** Use an existing live campaign instead of creating one through the admin API. */
export const CAMPAIGN_ID = process.env.DMH_E2E_CAMPAIGN_ID || '';
export const SIM_URL = (process.env.DMH_SIM_URL || 'http://127.0.0.1:5090').replace(/\/$/, '');
/** Selector of the simulator pay page's confirm control, when its text is not "支付"/"pay". */
export const SIM_PAY_SELECTOR = process.env.DMH_SIM_PAY_SELECTOR || '';

// h5/test-results/… whatever the working directory.
export const RESULTS_DIR = fileURLToPath(new URL('../test-results/', import.meta.url));
export const SCREENSHOT_DIR = `${RESULTS_DIR}screenshots`;
export const WECHAT_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN';

export const needsBackend = () => !ADMIN_PASSWORD && !CAMPAIGN_ID;

/** `fullPage: false` for a state shown in a fixed overlay (a bottom sheet covers the viewport only). */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage });
}

export function uniquePhone() {
  return `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
}

export async function adminToken(request) {
  const res = await request.post('/api/v1/auth/admin/login', { data: { username: ADMIN_USER, password: ADMIN_PASSWORD } });
  expect(res.status(), 'admin login').toBe(200);
  return (await res.json()).token;
}

/** A solid-colour PNG cover (a few KB), so the page loads a real image like a production campaign. */
export function makePng(width, height, [r, g, b] = [232, 73, 29]) {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set([r, g + Math.floor((x / width) * 80), b], 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export const FORM_SCHEMA = {
  type: 'object',
  required: ['name', 'gender', 'city', 'interests'],
  properties: {
    name: { type: 'string', title: '学员姓名', minLength: 2, maxLength: 20, 'x-widget': 'text', 'x-order': 1 },
    gender: { type: 'string', title: '性别', enum: ['男', '女'], 'x-widget': 'radio', 'x-order': 2 },
    city: { type: 'string', title: '所在城市', enum: ['北京', '上海', '广州', '深圳', '杭州'], 'x-widget': 'select', 'x-order': 3 },
    interests: {
      type: 'array',
      title: '感兴趣的课程',
      items: { type: 'string', enum: ['编程', '绘画', '音乐'] },
      minItems: 1,
      maxItems: 2,
      'x-widget': 'checkbox',
      'x-order': 4,
    },
    email: { type: 'string', title: '邮箱', format: 'email', 'x-widget': 'email', 'x-order': 5 },
    note: { type: 'string', title: '备注', maxLength: 200, 'x-widget': 'textarea', 'x-order': 6 },
  },
};

/** A live campaign: DMH_E2E_CAMPAIGN_ID, or a new one created and published through the admin API. */
export async function liveCampaign(request, overrides = {}) {
  if (CAMPAIGN_ID) return { id: CAMPAIGN_ID };
  const token = await adminToken(request);
  const headers = { Authorization: `Bearer ${token}` };
  let coverUrl = '';
  const up = await request.post('/api/v1/uploads/covers', {
    headers,
    multipart: { file: { name: 'cover.png', mimeType: 'image/png', buffer: makePng(750, 420) } },
  });
  if (up.ok()) coverUrl = (await up.json()).url;
  const now = Date.now();
  const body = {
    name: `少儿编程体验课（E2E ${String(now).slice(-6)}）`,
    description: '3 节直播体验课 + 1 次学习规划。\n报名成功后凭报名码到校区领取教材。',
    coverUrl,
    startTime: new Date(now - 3600_000).toISOString(),
    endTime: new Date(now + 7 * 86400_000).toISOString(),
    priceFen: 990,
    reward: { type: 'fixed', amountFen: 100 },
    payment: { description: '体验课报名费' },
    requireSms: false,
    formSchema: FORM_SCHEMA,
    ...overrides,
  };
  const created = await request.post('/api/v1/campaigns', { headers, data: body });
  expect(created.status(), await created.text()).toBe(201);
  const campaign = await created.json();
  const pub = await request.post(`/api/v1/campaigns/${campaign.id}/publish`, { headers });
  expect(pub.ok(), await pub.text()).toBeTruthy();
  return { ...campaign, adminHeaders: headers };
}

export function campaignPath(id, { cId, uId } = {}) {
  const q = new URLSearchParams({ id: String(id) });
  if (cId) q.set('c_id', cId);
  if (uId) q.set('u_id', uId);
  return `/h5/#/pages/campaign/index?${q}`;
}

export async function waitFormReady(page) {
  await expect(page.locator('[data-form-ready="1"]')).toBeVisible();
}

/** Fills the phone and the e2e schema's fields through the uni-app widgets. */
export async function fillForm(page, { phone, name = '张小明', gender = '男', interests = ['编程'] }) {
  await page.locator('[data-field="phone"] input').fill(phone);
  await page.locator('[data-field="name"] input').fill(name);
  await page.locator('[data-field="gender"]').getByText(gender, { exact: true }).click();
  // uni-app's picker: open it and confirm the highlighted (first) option.
  await page.locator('[data-field="city"] .picker').click();
  await page.locator('.uni-picker-action-confirm:visible').click();
  await expect(page.locator('[data-field="city"] .picker')).toHaveText('北京');
  for (const i of interests) await page.locator('[data-field="interests"]').getByText(i, { exact: true }).click();
}

/** On the simulator's pay page reached through h5Url: confirm, then it redirects back to /h5/. */
export async function payOnSimulator(page, shotName) {
  await page.waitForURL((u) => u.href.startsWith(SIM_URL), { timeout: 30_000 });
  await page.waitForLoadState('domcontentloaded');
  if (shotName) await screenshot(page, shotName);
  const confirm = SIM_PAY_SELECTOR
    ? page.locator(SIM_PAY_SELECTOR)
    : page.getByRole('button', { name: /确认支付|立即支付|支付|pay/i }).first();
  await confirm.click();
  await page.waitForURL(/\/h5\/.*#\/pages\/success\/index/, { timeout: 30_000 });
}

export async function expectSuccessWithPoster(page) {
  await expect(page.getByTestId('success')).toBeVisible({ timeout: 40_000 });
  await expect(page.getByTestId('success')).toContainText('报名成功');
  await expect(page.getByTestId('registration-code')).not.toBeEmpty();
  const poster = page.locator('[data-testid="poster"] img');
  await expect(poster).toHaveAttribute('src', /^data:image\/png;base64,/, { timeout: 30_000 });
  await expect.poll(() => poster.evaluate((img) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
}

/** The latest SMS code sent to a phone: ./dmh sends codes through the Tencent Cloud SMS client to the simulator's stand-in. */
export async function latestSmsCode(request, phone) {
  const r = await request.get(`${SIM_URL}/sim/sms/${phone}`);
  return r.ok() ? ((await r.json()).templateParams?.[0] ?? '') : '';
}
