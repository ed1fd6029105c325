import { test, expect } from './fixtures.js';
import {
  latestSmsCode,
  needsBackend,
  liveCampaign,
  campaignPath,
  waitFormReady,
  fillForm,
  payOnSimulator,
  expectSuccessWithPoster,
  screenshot,
  uniquePhone,
  SIM_URL,
} from './helpers.js';

test.describe.configure({ mode: 'serial' });
test.skip(needsBackend(), 'set DMH_ADMIN_PASSWORD (or DMH_E2E_CAMPAIGN_ID) to run against Dmh.Ingress');

let campaign;
let referralCode;
const friendPhone = uniquePhone();

test.beforeAll(async ({ request }) => {
  campaign = await liveCampaign(request);
});

test('the page validates on the client with Chinese messages', async ({ page }) => {
  await page.goto(campaignPath(campaign.id));
  await waitFormReady(page);
  await screenshot(page, '01-campaign');
  await page.getByTestId('submit').click();
  await expect(page.locator('[data-field="phone"]')).toContainText('请填写手机号');
  await expect(page.locator('[data-field="name"]')).toContainText('请填写学员姓名');
  await expect(page.locator('[data-field="gender"]')).toContainText('请选择性别');
  await expect(page.locator('[data-field="interests"]')).toContainText('请选择感兴趣的课程');
  await page.locator('[data-field="phone"] input').fill('12345');
  await page.locator('[data-field="name"] input').fill('张');
  await page.getByTestId('submit').click();
  await expect(page.locator('[data-field="phone"]')).toContainText('请输入正确的 11 位手机号');
  await expect(page.locator('[data-field="name"]')).toContainText('学员姓名至少 2 个字');
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, '02-campaign-errors');
});

test('a referrer registers and pays with H5 pay', async ({ page }) => {
  await page.goto(campaignPath(campaign.id));
  await waitFormReady(page);
  await fillForm(page, { phone: uniquePhone(), name: '李老师' });
  await page.getByTestId('submit').click();
  await payOnSimulator(page, '03-simulator-pay');
  await expectSuccessWithPoster(page);
  const link = await page.getByTestId('share-link').innerText();
  referralCode = new URL(link.replace('#/pages/campaign/index', '')).searchParams.get('u_id');
  expect(referralCode, 'the share link carries the referrer code').toBeTruthy();
});

test("a friend opens the referrer's link, fills the form, pays on the simulator and sees success and the poster", async ({
  page,
  request,
}) => {
  await page.goto(campaignPath(campaign.id, { cId: 'e2e_channel', uId: referralCode }));
  await waitFormReady(page);
  const stored = await page.evaluate((id) => localStorage.getItem(`dmh.attr.${id}`), String(campaign.id));
  expect(JSON.parse(stored)).toMatchObject({ cId: 'e2e_channel', uId: referralCode });

  await fillForm(page, { phone: friendPhone, name: '王小红', gender: '女', interests: ['编程', '音乐'] });
  await screenshot(page, '04-campaign-filled');
  const orderRequest = page.waitForRequest((r) => r.url().endsWith('/api/v1/orders') && r.method() === 'POST');
  await page.getByTestId('submit').click();
  const sent = (await orderRequest).postDataJSON();
  expect(sent).toMatchObject({ phone: friendPhone, cId: 'e2e_channel', uId: referralCode });
  expect(sent.formData).toMatchObject({ name: '王小红', gender: '女', city: '北京', interests: ['编程', '音乐'] });

  await payOnSimulator(page);
  await expectSuccessWithPoster(page);
  await screenshot(page, '05-success-poster');

  if (campaign.adminHeaders) {
    const orderId = new URL(page.url().replace('#/pages/success/index', '')).searchParams.get('orderId');
    const detail = await request.get(`/api/v1/orders/${orderId}/detail`, { headers: campaign.adminHeaders });
    expect(detail.ok()).toBeTruthy();
    const { order } = await detail.json();
    expect(order.channelId).toBe('e2e_channel');
    expect(order.referrerId, 'the order is attributed to the referrer').toBeTruthy();

    // the settlement worker pays the referrer the campaign's fixed reward, once
    await expect
      .poll(
        async () => {
          const d = await (await request.get(`/api/v1/orders/${orderId}/detail`, { headers: campaign.adminHeaders })).json();
          return d.rewards.map((r) => ({ userId: r.userId, amountFen: r.amountFen }));
        },
        { timeout: 10_000 },
      )
      .toEqual([{ userId: order.referrerId, amountFen: 100 }]);
    const balance = await (await request.get(`/api/v1/rewards/balance/${order.referrerId}`, { headers: campaign.adminHeaders })).json();
    expect(balance.balanceFen).toBeGreaterThanOrEqual(100);
  }
});

test('registering again with a paid phone shows 已报名', async ({ page }) => {
  await page.goto(campaignPath(campaign.id, { uId: referralCode }));
  await waitFormReady(page);
  await fillForm(page, { phone: friendPhone, name: '王小红', gender: '女' });
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('already-registered')).toContainText('已报名');
  await screenshot(page, '06-already-registered');
});

const storedToken = (page, campaignId) =>
  page.evaluate((id) => {
    const orderId = localStorage.getItem(`dmh.lastOrder.${id}`);
    return orderId && JSON.parse(localStorage.getItem(`dmh.order.${orderId}`) || '{}').token;
  }, String(campaignId));

test('an unpaid registration is reused from the same browser, which proves it with its stored token and keeps it', async ({ page }) => {
  const phone = uniquePhone();
  await page.goto(campaignPath(campaign.id));
  await waitFormReady(page);
  await fillForm(page, { phone, name: '赵先生' });
  await page.getByTestId('submit').click();
  await page.waitForURL((u) => u.href.startsWith(SIM_URL), { timeout: 30_000 });
  await page.goBack();
  await waitFormReady(page);
  await expect(page.getByTestId('i-have-paid')).toBeVisible();
  const token = await storedToken(page, campaign.id);
  expect(token, 'the first registration stored its order token').toBeTruthy();

  // Back from the cashier the form is as it was left (issue 20, item 8): submit it again as it is.
  await expect(page.locator('[data-field="phone"] input')).toHaveValue(phone);
  await expect(page.locator('[data-field="name"] input')).toHaveValue('赵先生');
  const secondRequest = page.waitForRequest((r) => r.url().endsWith('/api/v1/orders') && r.method() === 'POST');
  const second = page.waitForResponse((r) => r.url().endsWith('/api/v1/orders') && r.request().method() === 'POST');
  await page.getByTestId('submit').click();
  expect((await secondRequest).headers()['x-order-token'], 'the stored token is the proof').toBe(token);
  expect((await second).status(), 'the existing unpaid order comes back').toBe(200);
  await payOnSimulator(page);
  await expectSuccessWithPoster(page);
  expect(await storedToken(page, campaign.id), 'the token is kept').toBe(token);
});

test('the same unpaid phone from another browser must verify by SMS (409 registration-exists), then pays', async ({ page, request }) => {
  const phone = uniquePhone();
  // Someone else (another browser) registered this phone first and holds that order's token.
  const first = await request.post('/api/v1/orders', {
    data: { campaignId: Number(campaign.id), phone, formData: { name: '冒名者', gender: '男', city: '北京', interests: ['编程'] } },
  });
  expect(first.status(), await first.text()).toBe(201);
  const { id: orderId, accessToken: otherToken } = await first.json();

  await page.goto(campaignPath(campaign.id));
  await waitFormReady(page);
  await fillForm(page, { phone, name: '王本人', gender: '女' });
  const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/orders') && r.request().method() === 'POST');
  await page.getByTestId('submit').click();
  const conflict = await refused;
  expect(conflict.status()).toBe(409);
  expect((await conflict.json()).type).toMatch(/registration-exists$/);
  const sheet = page.getByTestId('verify-sms');
  await expect(sheet).toBeVisible();
  await expect(sheet).toContainText('该手机号已提交过报名');
  await expect(sheet).toContainText(`${phone.slice(0, 3)}****${phone.slice(7)}`);

  await sheet.getByText('获取验证码').click();
  await expect(sheet.getByText(/秒后重发/)).toBeVisible();
  let code;
  await expect
    .poll(
      async () => {
        code = await latestSmsCode(request, phone);
        return code;
      },
      { timeout: 10_000 },
    )
    .toMatch(/^\d{6}$/);

  // A wrong code is refused in the sheet; the code typed next still works.
  const wrong = code === '000000' ? '111111' : '000000';
  await page.getByTestId('verify-code').locator('input').fill(wrong);
  await page.getByTestId('verify-submit').click();
  await expect(page.getByTestId('verify-error')).toContainText('验证码错误');

  await page.getByTestId('verify-code').locator('input').fill(code);
  await expect(page.getByTestId('verify-error')).toHaveCount(0);
  await screenshot(page, '08-verify-sms', { fullPage: false });
  const proven = page.waitForRequest(
    (r) => r.url().endsWith('/api/v1/orders') && r.method() === 'POST' && r.postDataJSON().smsCode === code,
  );
  await page.getByTestId('verify-submit').click();
  expect((await proven).postDataJSON()).toMatchObject({ phone, smsCode: code, formData: { name: '王本人' } });
  await payOnSimulator(page);
  await expectSuccessWithPoster(page);

  // The earlier browser's token was revoked when this one proved the phone.
  const old = await request.get(`/api/v1/orders/${orderId}`, { headers: { 'X-Order-Token': otherToken } });
  expect(old.status()).toBe(403);
});
