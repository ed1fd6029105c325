import { test, expect } from './fixtures.js'
import {
  needsBackend,
  liveCampaign,
  campaignPath,
  waitFormReady,
  fillForm,
  expectSuccessWithPoster,
  screenshot,
  uniquePhone,
  SIM_URL,
  WECHAT_UA
} from './helpers.js'

test.skip(needsBackend(), 'set DMH_ADMIN_PASSWORD (or DMH_E2E_CAMPAIGN_ID) to run against Dmh.Ingress')
test.use({ userAgent: WECHAT_UA })

/** Clicks the simulator's confirm control if the simulator shows one (authorize page, shim pay sheet). */
async function confirmOnSimulator(page, pattern) {
  const button = page.getByRole('button', { name: pattern }).first()
  if (await button.isVisible().catch(() => false)) await button.click()
}

test('inside WeChat: OAuth round trip keeps attribution, JSAPI pay through the simulator shim', async ({ page, request }) => {
  const campaign = await liveCampaign(request)
  await page.goto(campaignPath(campaign.id, { cId: 'wx_menu' }))

  // The page redirects to the (simulated) authorize page, which comes back with ?code&state.
  await page.waitForURL((u) => u.href.startsWith(SIM_URL) || /[?&]code=/.test(u.href) || u.hash.includes('pages/campaign'), { timeout: 30_000 })
  if (page.url().startsWith(SIM_URL)) await confirmOnSimulator(page, /允许|同意|确认|授权|allow|confirm/i)
  await page.waitForURL(/\/h5\/.*#\/pages\/campaign\/index/, { timeout: 30_000 })
  await waitFormReady(page)
  await expect.poll(() => page.evaluate(() => JSON.parse(localStorage.getItem('dmh.session') || '{}').openid || '')).not.toBe('')
  expect(page.url()).not.toMatch(/[?&]code=/)
  const attr = await page.evaluate((id) => JSON.parse(localStorage.getItem(`dmh.attr.${id}`)), String(campaign.id))
  expect(attr).toMatchObject({ cId: 'wx_menu' })

  await fillForm(page, { phone: uniquePhone(), name: '微信用户' })
  const payRequest = page.waitForRequest((r) => /\/api\/v1\/orders\/\d+\/pay$/.test(r.url()))
  await page.getByTestId('submit').click()
  expect((await payRequest).postDataJSON()).toMatchObject({ channel: 'jsapi' })
  await page.waitForTimeout(500)
  await confirmOnSimulator(page, /确认支付|立即支付|支付|pay/i)
  await page.waitForURL(/#\/pages\/success\/index/, { timeout: 30_000 })
  await expectSuccessWithPoster(page)
  await screenshot(page, '07-wechat-success')
})
