import { test, expect } from './fixtures.js';
import { apiLogin, useSession, authHeader, signIn, VIEWER_USER, VIEWER_PASSWORD, createCampaignApi } from './helpers.js';

// With DMH_VIEWER_USER/DMH_VIEWER_PASSWORD a real viewer account is used (and the server's 403 checked);
// without them the admin's session is shown to the UI as a viewer, which checks the UI alone.
const realViewer = !!(VIEWER_USER && VIEWER_PASSWORD);

test('a viewer sees data but no edit controls', async ({ page, request }) => {
  const admin = await apiLogin(request);
  const campaign = await createCampaignApi(request, admin.token);
  if (realViewer) {
    await signIn(page, VIEWER_USER, VIEWER_PASSWORD);
  } else {
    test.info().annotations.push({ type: 'note', description: 'no DMH_VIEWER_USER: the viewer role is simulated in the browser' });
    const asViewer = { ...admin, user: { ...admin.user, role: 'viewer' } };
    await page.route('**/api/v1/auth/admin/me', (route) => route.fulfill({ json: asViewer.user }));
    await useSession(page, asViewer);
    await page.goto('/admin/#/dashboard');
  }
  await expect(page.getByTestId('current-role')).toHaveText('只读');
  await expect(page.getByTestId('menu')).not.toContainText('新建活动');

  await page.goto('/admin/#/campaigns');
  await expect(page.getByTestId('campaign-table').locator('.el-table__row').first()).toBeVisible();
  await expect(page.getByTestId('new-campaign')).toHaveCount(0);
  await expect(page.getByTestId('row-publish')).toHaveCount(0);
  await expect(page.getByTestId('row-delete')).toHaveCount(0);

  await page.goto(`/admin/#/campaigns/${campaign.id}`);
  await expect(page.getByTestId('name')).toHaveValue(campaign.name);
  await expect(page.getByTestId('name')).toBeDisabled();
  await expect(page.getByTestId('save')).toHaveCount(0);
  await expect(page.getByTestId('publish')).toHaveCount(0);
  await expect(page.getByTestId('add-text')).toHaveCount(0);
  await expect(page.getByTestId('field-remove')).toHaveCount(0);

  await page.goto('/admin/#/campaigns/new');
  await expect(page).toHaveURL(/#\/campaigns$/);

  // Viewers get masked phones and may search orders by a whole number only.
  await page.goto('/admin/#/orders');
  await expect(page.getByTestId('filter-phone')).toHaveAttribute('placeholder', '完整 11 位手机号');

  await page.goto('/admin/#/sync');
  await expect(page.getByTestId('sync-summary')).toBeVisible();
  await expect(page.getByTestId('retry-all')).toHaveCount(0);

  if (realViewer) {
    const viewer = await apiLogin(request, VIEWER_USER, VIEWER_PASSWORD);
    const res = await request.post(`/api/v1/campaigns/${campaign.id}/publish`, { headers: authHeader(viewer.token) });
    expect(res.status()).toBe(403);
  }
});
