/** Mainland mobile number, the fixed order field above the dynamic form. */
export const PHONE_RE = /^1[3-9]\d{9}$/;

export function phoneError(phone) {
  const s = String(phone ?? '').trim();
  if (!s) return '请填写手机号';
  if (!PHONE_RE.test(s)) return '请输入正确的 11 位手机号';
  return null;
}

export function smsCodeError(code) {
  const s = String(code ?? '').trim();
  if (!s) return '请填写短信验证码';
  if (!/^\d{4,8}$/.test(s)) return '验证码格式不正确';
  return null;
}
