import { defineConfig } from '@playwright/test';

// Browser tests against a running Dmh.Ingress (it serves /admin/ from admin/dist and the API).
// Debian's chromium; never a downloaded browser.
// The approval project runs against a second Ingress with Campaigns__RequireApproval=true on the same
// databases (./dmh test admin-e2e starts it; DMH_APPROVAL_BASE_URL); the other specs against the first.
const approvalBaseURL = process.env.DMH_APPROVAL_BASE_URL || 'http://127.0.0.1:5087';

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results/playwright',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  projects: [
    { name: 'admin', testIgnore: /approval\.spec\.js$/ },
    { name: 'approval', testMatch: /approval\.spec\.js$/, use: { baseURL: approvalBaseURL } },
  ],
  use: {
    baseURL: process.env.DMH_BASE_URL || 'http://127.0.0.1:5080',
    viewport: { width: 1440, height: 900 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
    testIdAttribute: 'data-test',
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.DMH_CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
