import { test, expect } from './fixtures.js';
import path from 'node:path';
import fs from 'node:fs';
import { apiLogin, useSession, authHeader, createCampaignApi, SCREENSHOT_DIR } from './helpers.js';

// The campaign editor's reward section (issue 17) against the real backend.
let session;

test.beforeAll(async ({ request }) => {
  session = await apiLogin(request);
});

async function shot(page, name) {
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(300);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

test('the reward rule editor builds a tiered, two-level rule with caps, previews it in words and saves the new shape', async ({
  page,
  request,
}) => {
  const draft = await createCampaignApi(request, session.token);
  await useSession(page, session);
  await page.goto(`/admin/#/campaigns/${draft.id}`);
  const editor = page.getByTestId('reward-editor');
  await expect(editor).toBeVisible();

  await page.getByTestId('reward-hold-days').locator('input').fill('3');
  await page.getByTestId('reward-type-1').getByText('阶梯').click();
  const tier1 = page.getByTestId('reward-tier-1-1');
  await tier1.getByTestId('tier-amount').locator('input').fill('5');
  await tier1.getByTestId('tier-amount').locator('input').blur();
  await page.getByTestId('reward-add-tier-1').click();
  const tier2 = page.getByTestId('reward-tier-1-2');
  await tier2.getByTestId('tier-from').locator('input').fill('6');
  await tier2.getByTestId('tier-from').locator('input').blur();
  await tier2.getByTestId('tier-amount').locator('input').fill('8');
  await tier2.getByTestId('tier-amount').locator('input').blur();
  await page.getByTestId('reward-cap-daily').locator('input').fill('100');
  await page.getByTestId('reward-cap-daily').locator('input').blur();
  await page.getByTestId('reward-add-level').click();
  await page.getByTestId('reward-amount-2').locator('input').fill('2');
  await page.getByTestId('reward-amount-2').locator('input').blur();

  const preview = page.getByTestId('reward-preview');
  await expect(preview).toContainText('推荐 1 人得 ¥5，第 6 人起每人 ¥8，每人每天最多 ¥100');
  await expect(preview).toContainText('二级（好友邀请的人报名）：每人得 ¥2');
  await expect(preview).toContainText('好友付款 3 天后奖励可提现');

  // a tier above the price (¥99) is refused before anything is sent
  await tier2.getByTestId('tier-amount').locator('input').fill('120');
  await tier2.getByTestId('tier-amount').locator('input').blur();
  await expect(editor).toContainText('奖励不能高于报名费');
  await tier2.getByTestId('tier-amount').locator('input').fill('8');
  await tier2.getByTestId('tier-amount').locator('input').blur();
  await expect(editor).not.toContainText('奖励不能高于报名费');
  await editor.scrollIntoViewIfNeeded();
  await shot(page, '11-reward-rule-editor');

  const saved = page.waitForResponse((r) => r.url().endsWith(`/api/v1/campaigns/${draft.id}`) && r.request().method() === 'PUT');
  await page.getByTestId('save').click();
  expect((await saved).status()).toBe(200);
  const stored = await (await request.get(`/api/v1/campaigns/${draft.id}`, { headers: authHeader(session.token) })).json();
  expect(stored.reward).toMatchObject({
    holdDays: 3,
    levels: [
      {
        type: 'tiered',
        tiers: [
          { from: 1, amountFen: 500 },
          { from: 6, amountFen: 800 },
        ],
      },
      { type: 'fixed', amountFen: 200 },
    ],
    caps: { totalFen: null, count: null, dailyFen: 10000 },
  });

  // opened again, the editor shows what was saved
  await page.reload();
  await expect(page.getByTestId('reward-preview')).toContainText('推荐 1 人得 ¥5，第 6 人起每人 ¥8，每人每天最多 ¥100');
});
