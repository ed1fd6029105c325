/**
 * Where the page runs, from the user agent: WeChat's in-app browser pays with JSAPI after OAuth,
 * everything else (Douyin's webview, system browsers) pays with WeChat H5 pay.
 */
export function detectEnv(ua = typeof navigator !== 'undefined' ? navigator.userAgent : '') {
  const s = ua || '';
  if (/MicroMessenger/i.test(s)) return 'wechat';
  if (/aweme|BytedanceWebview/i.test(s)) return 'douyin';
  return 'other';
}

export function payChannelFor(env) {
  return env === 'wechat' ? 'jsapi' : 'h5';
}
