import { describe, it, expect, vi } from 'vitest';
import { oauthParams, stripOAuthParams, buildAuthorizeUrl, invokeJsapiPay } from '../../src/lib/wechat.js';

describe('WeChat OAuth helpers', () => {
  it('reads code and state placed before the hash (real WeChat)', () => {
    expect(oauthParams('http://h.test/h5/?code=abc&state=S1#/pages/campaign/index?id=1&u_id=r')).toEqual({ code: 'abc', state: 'S1' });
  });

  it('reads code and state inside the hash query', () => {
    expect(oauthParams('http://h.test/h5/#/pages/campaign/index?id=1&code=abc&state=S1')).toEqual({ code: 'abc', state: 'S1' });
  });

  it('answers null without a code', () => {
    expect(oauthParams('http://h.test/h5/#/pages/campaign/index?id=1')).toBeNull();
  });

  it('strips the one-use code but keeps the page query', () => {
    expect(stripOAuthParams('http://h.test/h5/?code=abc&state=S1#/pages/campaign/index?id=1&u_id=r')).toBe(
      'http://h.test/h5/#/pages/campaign/index?id=1&u_id=r',
    );
    expect(stripOAuthParams('http://h.test/h5/#/pages/campaign/index?id=1&code=abc&state=S1')).toBe(
      'http://h.test/h5/#/pages/campaign/index?id=1',
    );
  });

  it('builds the authorize URL in WeChat parameter order with #wechat_redirect', () => {
    const url = buildAuthorizeUrl('http://127.0.0.1:5090/connect/oauth2/authorize', {
      appId: 'wx123',
      redirectUri: 'http://127.0.0.1:5080/h5/#/pages/campaign/index?id=1&u_id=r',
      state: 'S1',
    });
    const u = new URL(url);
    expect([...u.searchParams.keys()]).toEqual(['appid', 'redirect_uri', 'response_type', 'scope', 'state']);
    expect(u.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:5080/h5/#/pages/campaign/index?id=1&u_id=r');
    expect(u.searchParams.get('scope')).toBe('snsapi_base');
    expect(u.hash).toBe('#wechat_redirect');
  });

  it('keeps an appid and scope already in the configured URL', () => {
    const u = new URL(
      buildAuthorizeUrl('https://open.weixin.qq.com/connect/oauth2/authorize?scope=snsapi_userinfo&appid=wxA#wechat_redirect', {
        appId: 'wxB',
        redirectUri: 'https://x.test/h5/',
        state: 'S',
      }),
    );
    expect(u.searchParams.get('appid')).toBe('wxA');
    expect(u.searchParams.get('scope')).toBe('snsapi_userinfo');
    expect([...u.searchParams.keys()].slice(0, 2)).toEqual(['appid', 'redirect_uri']);
  });
});

describe('invokeJsapiPay', () => {
  const params = { appId: 'wx1', timeStamp: '1', nonceStr: 'n', package: 'prepay_id=wx1', signType: 'RSA', paySign: 's' };
  const bridge = (errMsg) => ({ invoke: vi.fn((name, p, cb) => cb({ err_msg: errMsg })) });

  it('passes the backend parameters to getBrandWCPayRequest', async () => {
    const b = bridge('get_brand_wcpay_request:ok');
    expect(await invokeJsapiPay(b, params)).toBe('ok');
    expect(b.invoke).toHaveBeenCalledWith('getBrandWCPayRequest', params, expect.any(Function));
  });

  it('distinguishes cancel and failure', async () => {
    expect(await invokeJsapiPay(bridge('get_brand_wcpay_request:cancel'), params)).toBe('cancel');
    expect(await invokeJsapiPay(bridge('get_brand_wcpay_request:fail'), params)).toBe('fail');
  });
});
