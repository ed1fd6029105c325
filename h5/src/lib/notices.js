/**
 * Reward notices (issue 18): the page asks for WeChat's one-time subscribe notice consent with the
 * official account's open tag `<wx-open-subscribe>` (inside WeChat only), then records it at
 * POST /api/v1/me/notice-subscription. Pure helpers here; NoticeSubscribe.vue does the rest.
 */

// WeChat template ids are letters, digits, `_` and `-`: anything else is never put into markup.
const TEMPLATE = /^[A-Za-z0-9_-]{1,128}$/;

export function isTemplateId(id) {
  return typeof id === 'string' && TEMPLATE.test(id);
}

/**
 * The open tag's markup. WeChat renders the `text/wxtag-template` content itself (in its own shadow
 * DOM, so the page's CSS does not reach it: the style goes inside), which Vue templates cannot hold
 * (they drop <script>), hence a string for v-html.
 */
export function openTagHtml(templateId, label, { secondary = false } = {}) {
  if (!isTemplateId(templateId)) return '';
  const text = String(label).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  // The first ask is the page's call to action (WeChat green); once subscribed, asking again is secondary.
  const colors = secondary
    ? 'background:#fff;color:#07c160;border:1px solid #07c160'
    : 'background:#07c160;color:#fff;border:1px solid #07c160';
  const style =
    `.btn{display:block;width:100%;box-sizing:border-box;padding:9px 0;border-radius:18px;${colors};` +
    'font-size:14px;text-align:center;font-family:-apple-system,sans-serif}';
  return (
    `<wx-open-subscribe template="${templateId}" data-testid="open-subscribe" style="display:block;width:100%">` +
    `<script type="text/wxtag-template" slot="style"><style>${style}</style></script>` +
    `<script type="text/wxtag-template"><div class="btn">${text}</div></script>` +
    `</wx-open-subscribe>`
  );
}

/**
 * The answer for `templateId` in the open tag's `success` event: 'accept', 'reject', 'cancel',
 * 'filter' or null. `detail.subscribeDetails` is JSON of template id → JSON of `{status}`.
 */
export function subscribeAnswer(detail, templateId) {
  if (!detail || detail.errMsg !== 'subscribe:ok') return null;
  try {
    const all = typeof detail.subscribeDetails === 'string' ? JSON.parse(detail.subscribeDetails) : detail.subscribeDetails;
    const one = all && all[templateId];
    const parsed = typeof one === 'string' ? JSON.parse(one) : one;
    return (parsed && parsed.status) || null;
  } catch {
    return null;
  }
}

/** The line under the card's title: how many notices are still to come. */
export function noticeHint(available) {
  return available > 0
    ? `已开启，接下来 ${available} 次奖励变动会通过微信通知你`
    : '好友付款后奖励到账、退款扣回或提现到账时，微信第一时间通知你';
}
