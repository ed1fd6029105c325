import { test as base, expect } from '@playwright/test';

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
});

export { expect };
