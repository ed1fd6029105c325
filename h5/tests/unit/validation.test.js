import { describe, it, expect } from 'vitest';
import { createValidator } from '../../src/lib/validation.js';
import { buildFields, initialModel, toFormData } from '../../src/lib/schemaForm.js';
import { phoneError, smsCodeError, PHONE_RE } from '../../src/lib/phone.js';
import { zhMessage, errorKey } from '../../src/lib/messages.js';
import { schema } from './fixtures.js';

const fields = buildFields(schema);
const validate = createValidator(schema, fields);
const valid = { name: '张三', gender: '男', city: '上海', interests: ['编程'], age: 10 };

describe('Ajv validation with Chinese messages', () => {
  it('accepts a complete answer', () => {
    expect(validate(valid)).toEqual({ valid: true, errors: {} });
  });

  it('reports every missing required field, worded by widget', () => {
    const r = validate(toFormData(fields, initialModel(fields)));
    expect(r.valid).toBe(false);
    expect(r.errors).toMatchObject({
      name: '请填写姓名',
      gender: '请选择性别',
      city: '请选择城市',
      interests: '请选择兴趣',
      age: '请填写年龄',
    });
  });

  it('reports length, range, pattern and format problems', () => {
    const r = validate({ ...valid, name: '张', age: 30, school: 'abc', email: 'not-mail', birthday: '2020-13-40' });
    expect(r.errors).toEqual({
      name: '姓名至少 2 个字',
      age: '年龄不能大于 18',
      school: '学校格式不正确',
      email: '请输入有效的邮箱地址',
      birthday: '请选择有效的日期',
    });
    expect(validate({ ...valid, name: '张'.repeat(21), age: 5 }).errors).toEqual({
      name: '姓名最多 20 个字',
      age: '年龄不能小于 6',
    });
  });

  it('reports choices outside the enum and item counts', () => {
    const r = validate({ ...valid, city: '纽约', interests: ['编程', '绘画', '音乐'] });
    expect(r.errors).toEqual({ city: '请从选项中选择城市', interests: '兴趣最多选择 2 项' });
    expect(validate({ ...valid, interests: ['跳舞'] }).errors).toEqual({ interests: '请从选项中选择兴趣' });
  });

  it('reports a number field typed as text', () => {
    expect(validate({ ...valid, age: '十二' }).errors).toEqual({ age: '年龄请输入整数' });
  });

  it('compiles the same schema twice (page reloads inside one app)', () => {
    const withId = { ...schema, $id: 'https://dmh.example/forms/1' };
    expect(() => {
      createValidator(withId, fields);
      createValidator(withId, fields);
    }).not.toThrow();
  });
});

describe('messages', () => {
  it('finds the field of nested errors', () => {
    expect(errorKey({ keyword: 'enum', instancePath: '/interests/1', params: {} })).toBe('interests');
    expect(errorKey({ keyword: 'required', instancePath: '', params: { missingProperty: 'name' } })).toBe('name');
  });

  it('has a fallback for keywords it does not know', () => {
    expect(zhMessage({ keyword: 'const', params: {} }, { label: '确认' })).toBe('确认填写有误');
  });
});

describe('phone and SMS code', () => {
  it('accepts mainland mobile numbers only', () => {
    expect(PHONE_RE.test('13800138000')).toBe(true);
    expect(PHONE_RE.test('19912345678')).toBe(true);
    expect(phoneError('12800138000')).toBe('请输入正确的 11 位手机号');
    expect(phoneError('1380013800')).toBe('请输入正确的 11 位手机号');
    expect(phoneError('+8613800138000')).toBe('请输入正确的 11 位手机号');
    expect(phoneError('')).toBe('请填写手机号');
    expect(phoneError(' 13800138000 ')).toBeNull();
  });

  it('checks the SMS code shape', () => {
    expect(smsCodeError('')).toBe('请填写短信验证码');
    expect(smsCodeError('12a4')).toBe('验证码格式不正确');
    expect(smsCodeError('123456')).toBeNull();
  });
});
