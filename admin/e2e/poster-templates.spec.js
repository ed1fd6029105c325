import { test, expect } from './fixtures.js';
import path from 'node:path';
import fs from 'node:fs';
import { deflateSync } from 'node:zlib';
import { apiLogin, useSession, createCampaignApi, authHeader, SCREENSHOT_DIR } from './helpers.js';

test.use({ viewport: { width: 1440, height: 900 } });

/** A 750x1334 PNG with soft diagonal colour bands: a stand-in for a designer's poster background. */
function backgroundPng(width = 750, height = 1334) {
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
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const t = ((x + y) % 400) / 400;
      row.set([30 + Math.round(60 * t), 80 + Math.round(90 * (y / height)), 150 + Math.round(80 * t)], 1 + x * 3);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('poster templates: choose a layout with a live preview, upload a background, save', async ({ page, request }) => {
  const session = await apiLogin(request);
  const campaign = await createCampaignApi(request, session.token, { name: '2026 春季亲子研学营：走进自然博物馆' });
  await useSession(page, session);
  await page.goto(`/admin/#/campaigns/${campaign.id}`);

  const picker = page.locator('[data-test="poster-templates"]');
  await picker.scrollIntoViewIfNeeded();
  for (const slug of ['classic', 'fullbleed', 'card']) {
    await expect(picker.locator(`[data-test="poster-template-${slug}"] img`)).toHaveAttribute('src', /^blob:/);
  }
  await expect(picker.locator('[data-test="poster-preview"]')).toHaveAttribute('src', /^blob:/);

  await picker.locator('[data-test="poster-bg-input"]').setInputFiles({ name: 'bg.png', mimeType: 'image/png', buffer: backgroundPng() });
  await expect(picker.getByText('已上传，海报使用该背景')).toBeVisible();
  await picker.locator('[data-test="poster-template-fullbleed"]').click();
  await expect(picker.locator('[data-test="poster-positions"]')).toContainText('边长 250');
  await expect(picker.locator('.el-loading-mask:visible')).toHaveCount(0);
  await page.waitForTimeout(300);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await picker.screenshot({ path: path.join(SCREENSHOT_DIR, '20-poster-templates.png') });

  await picker.locator('[data-test="poster-save"]').click();
  await expect(page.getByText('海报模板已保存')).toBeVisible();
  const saved = await (await request.get(`/api/v1/campaigns/${campaign.id}/poster`, { headers: authHeader(session.token) })).json();
  expect(saved.template).toBe('fullbleed');
  expect(saved.backgroundUrl).toMatch(/^\/uploads\//);
});
