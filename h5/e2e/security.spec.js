import { test, expect } from './fixtures.js';
import { needsBackend, liveCampaign, campaignPath, waitFormReady } from './helpers.js';

test.skip(needsBackend(), 'set DMH_ADMIN_PASSWORD (or DMH_E2E_CAMPAIGN_ID) to run against Dmh.Ingress');

test('the H5 page is served with its security headers and runs under its CSP', async ({ page, request, cspViolations }) => {
  const campaign = await liveCampaign(request);
  const response = await page.goto(campaignPath(campaign.id));
  const headers = response.headers();
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['content-security-policy']).toMatch(/script-src 'self' 'sha256-/);
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
  // The form (validated with Ajv) renders: the policy lets the app run.
  await waitFormReady(page);

  // The policy is enforced: an injected inline script is refused.
  const refused = await page.evaluate(
    () =>
      new Promise((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true });
        const s = document.createElement('script');
        s.textContent = 'window.__injected = 1';
        document.head.appendChild(s);
      }),
  );
  expect(refused).toMatch(/^script-src/);
  expect(await page.evaluate(() => window.__injected)).toBeUndefined();
  await expect.poll(() => cspViolations.length).toBeGreaterThan(0);
  cspViolations.length = 0;
});

test('metrics and the OpenAPI document are not on the public port', async ({ request }) => {
  expect((await request.get('/metrics')).status()).toBe(404);
  expect((await request.get('/openapi/v1.json')).status()).toBe(404);
  expect((await request.get('/readyz')).status()).toBe(200);
});
