import { describe, it, expect } from 'vitest';
import { detectEnv, payChannelFor } from '../../src/lib/env.js';

const UA = {
  wechat:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN',
  wechatAndroid:
    'Mozilla/5.0 (Linux; Android 13; V2183A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/1110017 MMWEBSDK/20230805 MMWEBID/1234 MicroMessenger/8.0.42.2460(0x28002A3D) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64',
  douyin:
    'Mozilla/5.0 (Linux; Android 12; PEGM00) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/91.0.4472.114 Mobile Safari/537.36 aweme_260500 JsSdk/1.0 NetType/WIFI Channel/douyin_tengxun_and1 app_version/26.5.0 ByteLocale/zh-CN Region/CN AppTheme/light BytedanceWebview/d8a21c6',
  douyinIos:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 aweme/27.0.0 JsSdk/2.0 NetType/WIFI Channel/App Store',
  safari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  chrome: 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
};

describe('detectEnv', () => {
  it('recognises WeChat on iOS and Android', () => {
    expect(detectEnv(UA.wechat)).toBe('wechat');
    expect(detectEnv(UA.wechatAndroid)).toBe('wechat');
  });

  it('recognises Douyin by aweme or BytedanceWebview', () => {
    expect(detectEnv(UA.douyin)).toBe('douyin');
    expect(detectEnv(UA.douyinIos)).toBe('douyin');
    expect(detectEnv('Mozilla/5.0 BytedanceWebview/abc')).toBe('douyin');
  });

  it('treats everything else as other', () => {
    expect(detectEnv(UA.safari)).toBe('other');
    expect(detectEnv(UA.chrome)).toBe('other');
    expect(detectEnv('')).toBe('other');
    expect(detectEnv(undefined)).toBe('other');
  });

  it('pays with JSAPI inside WeChat and H5 pay elsewhere', () => {
    expect(payChannelFor('wechat')).toBe('jsapi');
    expect(payChannelFor('douyin')).toBe('h5');
    expect(payChannelFor('other')).toBe('h5');
  });
});
