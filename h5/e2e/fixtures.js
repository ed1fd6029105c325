import { test as base, expect } from '@playwright/test';
import { SIM_URL } from './helpers.js';

/**
 * `test` with one automatic check: no page of the test may break Ingress's Content-Security-Policy.
 * Chromium logs each violation to the console; the listener on the document catches any it might not.
 */
export const test = base.extend({
  cspViolations: [
    async ({ context }, use) => {
      const violations = [];
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} on ${location.href}`),
        );
      });
      context.on('console', (msg) => {
        if (/Content Security Policy|CSP violation/i.test(msg.text())) violations.push(msg.text());
      });
      await use(violations);
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
  // The page must work offline from the internet: nothing but DMH and (locally) the WeChat simulator.
  externalRequests: [
    async ({ context, baseURL }, use) => {
      const allowed = new Set([new URL(baseURL).origin, new URL(SIM_URL).origin]);
      const external = [];
      context.on('request', (request) => {
        const url = new URL(request.url());
        if (/^https?:$/.test(url.protocol) && !allowed.has(url.origin)) external.push(request.url());
      });
      await use(external);
      expect(external, 'requests to other origins').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
