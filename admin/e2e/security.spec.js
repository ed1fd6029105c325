import { test, expect } from './fixtures.js';
import { signIn } from './helpers.js';

test('the console is served with its security headers and every page runs under its CSP', async ({ page, cspViolations }) => {
  const response = await page.goto('/admin/');
  const headers = response.headers();
  expect(headers['content-security-policy']).toContain("script-src 'self'");
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['content-security-policy']).not.toContain("'unsafe-eval'");
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
  expect(headers['x-content-type-options']).toBe('nosniff');

  await signIn(page);
  // The dashboard draws ECharts charts; the others are Element Plus tables and forms.
  for (const route of ['dashboard', 'campaigns', 'campaigns/new', 'orders', 'rewards', 'sync']) {
    await page.goto(`/admin/#/${route}`);
    await page.waitForLoadState('networkidle');
  }
  expect(cspViolations).toEqual([]);
});
