import { request } from './http.js';

let cached;
/**
 * `GET /api/v1/h5/config` → `{wechatAppId, oauthAuthorizeUrl, jsBridgeShimUrl?}`. Not in docs/API.md
 * yet: the H5 page needs the OAuth authorize URL and, locally, the simulator's WeixinJSBridge shim.
 */
export function getH5Config() {
  cached ||= request('GET', '/api/v1/h5/config').then(
    (r) => r.data || {},
    (e) => {
      cached = null;
      throw e;
    },
  );
  return cached;
}
