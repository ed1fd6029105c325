import { createRouter, createWebHashHistory } from 'vue-router';
import { session, setUser, canWrite } from './session.js';
import { me } from './api/auth.js';

// Hash history under /admin/: Dmh.Ingress serves one index.html, no server-side fallback needed.
const routes = [
  { path: '/sign-in', name: 'sign-in', component: () => import('./pages/sign-in/SignInPage.vue'), meta: { public: true, title: '登录' } },
  {
    path: '/',
    component: () => import('./layouts/AdminLayout.vue'),
    children: [
      { path: '', redirect: { name: 'dashboard' } },
      { path: 'dashboard', name: 'dashboard', component: () => import('./pages/dashboard/DashboardPage.vue'), meta: { title: '数据概览' } },
      { path: 'campaigns', name: 'campaigns', component: () => import('./pages/campaigns/CampaignsPage.vue'), meta: { title: '活动管理' } },
      {
        path: 'campaigns/new',
        name: 'campaign-new',
        component: () => import('./pages/campaign-edit/CampaignEditPage.vue'),
        meta: { title: '新建活动', write: 'campaigns' },
      },
      {
        path: 'campaigns/:id(\\d+)',
        name: 'campaign-edit',
        component: () => import('./pages/campaign-edit/CampaignEditPage.vue'),
        props: true,
        meta: { title: '活动详情' },
      },
      { path: 'funnel', name: 'funnel', component: () => import('./pages/funnel/FunnelPage.vue'), meta: { title: '转化漏斗' } },
      { path: 'channels', name: 'channels', component: () => import('./pages/channels/ChannelsPage.vue'), meta: { title: '渠道管理' } },
      { path: 'orders', name: 'orders', component: () => import('./pages/orders/OrdersPage.vue'), meta: { title: '订单管理' } },
      { path: 'rewards', name: 'rewards', component: () => import('./pages/rewards/RewardsPage.vue'), meta: { title: '推荐奖励' } },
      {
        path: 'withdrawals',
        name: 'withdrawals',
        component: () => import('./pages/withdrawals/WithdrawalsPage.vue'),
        meta: { title: '提现审核' },
      },
      { path: 'check-in', name: 'check-in', component: () => import('./pages/check-in/CheckInPage.vue'), meta: { title: '现场核销' } },
      { path: 'sync', name: 'sync', component: () => import('./pages/sync/SyncPage.vue'), meta: { title: '同步监控' } },
      {
        path: 'accounts',
        name: 'accounts',
        component: () => import('./pages/accounts/AccountsPage.vue'),
        meta: { title: '账号管理', adminOnly: true },
      },
      {
        path: 'audit',
        name: 'audit',
        component: () => import('./pages/audit/AuditLogPage.vue'),
        meta: { title: '操作日志', adminOnly: true },
      },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: { name: 'dashboard' } },
];

export const router = createRouter({ history: createWebHashHistory('/admin/'), routes });

let checked = false;

router.beforeEach(async (to) => {
  if (to.name === 'sign-in' && session.token && !to.query.redirect)
    return { name: session.user?.role === 'staff' ? 'check-in' : 'dashboard' };
  if (to.meta.public) return true;
  if (!session.token) return { name: 'sign-in', query: { redirect: to.fullPath } };
  if (!checked) {
    // refresh the role once per page load; a 401 here sends the user to sign-in
    try {
      setUser(await me());
      checked = true;
    } catch {
      if (!session.token) return { name: 'sign-in', query: { redirect: to.fullPath } };
    }
  }
  if (session.user?.role === 'staff' && to.name !== 'check-in') return { name: 'check-in' };
  if (to.meta.write && !canWrite(to.meta.write)) return { name: 'campaigns' };
  if (to.meta.adminOnly && session.user?.role !== 'admin') return { name: 'dashboard' };
  return true;
});

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · DMH 营销管理后台` : 'DMH 营销管理后台';
});

export function resetSessionCheck() {
  checked = false;
}
