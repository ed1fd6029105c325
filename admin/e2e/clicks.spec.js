import { test, expect } from './fixtures.js';
import { apiLogin, useSession, unique, writeResult } from './helpers.js';

// Issue 20: the clicks and inputs a first-timer needs to create and publish a campaign with three form
// fields (姓名, 公司, 参加方式 with 线上/线下), price ¥49, ending on the 15th of next month.
// DMH_CLICKS=before runs the flow of the editor as it was (a date-range picker, no field at the start,
// save then confirm); DMH_CLICKS=after (the default, so ./dmh test runs it) the current one.
const MODE = process.env.DMH_CLICKS || 'after';

// Keystroke-level model (Card, Moran & Newell): M 1.35 s to decide, P 1.1 s to point, K 0.28 s a key
// (a Chinese character through pinyin ≈ 3 keys). A first-timer decides before each click.
const KLM = { M: 1.35, P: 1.1, K: 0.28 };
const keysOf = (text) => [...text].reduce((n, ch) => n + (/[\u4e00-\u9fff]/.test(ch) ? 3 : 1), 0);

function recorder(page) {
  const tally = { clicks: 0, inputs: 0, keys: 0 };
  return {
    tally,
    async click(locator) {
      tally.clicks += 1;
      await locator.click();
    },
    /** A human clicks into the box and types: one click and one input. */
    async type(locator, text) {
      tally.clicks += 1;
      tally.inputs += 1;
      tally.keys += keysOf(text);
      await locator.fill(text);
    },
    async press(locator, key) {
      tally.keys += 1;
      await locator.press(key);
    },
    page,
  };
}

test(`create and publish a campaign with three form fields (${MODE})`, async ({ page, request }) => {
  const session = await apiLogin(request);
  await useSession(page, session);
  await page.goto('/admin/#/campaigns');
  await expect(page.getByTestId('campaign-table')).toBeVisible();
  const r = recorder(page);
  const started = Date.now();

  await r.click(page.getByTestId('new-campaign'));
  await r.type(page.getByTestId('name'), unique('冬季训练营'));

  if (MODE === 'before') {
    // the range picker: open, today, the 15th of next month (right panel), 确定
    await r.click(page.locator('.el-date-editor--datetimerange'));
    const panel = page.locator('.el-date-range-picker:visible');
    await r.click(panel.locator('td.today'));
    await r.click(panel.locator('.is-right td.available', { hasText: /^\s*15\s*$/ }).first());
    await r.click(panel.getByRole('button', { name: /确定|OK/ }));
  } else {
    // the start is now already; the end: open, next month, the 15th, 确定
    await r.click(page.getByTestId('end-time').locator('input'));
    const panel = page.locator('.el-picker-panel:visible');
    await r.click(panel.getByRole('button', { name: '下个月' }));
    await r.click(panel.locator('td.available', { hasText: /^\s*15\s*$/ }).first());
    await r.click(panel.getByRole('button', { name: /确定|OK/ }));
  }

  await r.type(page.getByTestId('price').locator('input'), '49');

  if (MODE === 'before') await r.click(page.getByTestId('add-name'));
  await r.click(page.getByTestId('add-text'));
  await r.type(page.getByTestId('field-label'), '公司');
  await r.click(page.getByTestId('add-radio'));
  await r.type(page.getByTestId('field-label'), '参加方式');
  await r.type(page.getByTestId('field-option').nth(0), '线上');
  await r.type(page.getByTestId('field-option').nth(1), '线下');
  await expect(page.getByTestId('field-item')).toHaveCount(3);

  await r.click(page.getByTestId('publish'));
  await r.click(page.locator('.el-message-box .el-button--primary'));
  await expect(page.getByTestId('h5-link-dialog').getByTestId('h5-qr')).toBeVisible();
  const elapsedMs = Date.now() - started;

  const { clicks, inputs, keys } = r.tally;
  const humanSeconds = Math.round(clicks * (KLM.M + KLM.P) + keys * KLM.K);
  const result = { mode: MODE, clicks, inputs, keys, scriptSeconds: elapsedMs / 1000, klmSeconds: humanSeconds };
  writeResult(`clicks-${MODE}.json`, result);
  test.info().annotations.push({ type: 'clicks', description: JSON.stringify(result) });
  console.log(`clicks ${MODE}: ${JSON.stringify(result)}`);
});
