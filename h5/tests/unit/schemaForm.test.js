import { describe, it, expect } from 'vitest';
import { buildFields, initialModel, toFormData, splitServerErrors } from '../../src/lib/schemaForm.js';
import { schema } from './fixtures.js';

describe('buildFields', () => {
  const fields = buildFields(schema);

  it('orders fields by x-order, fields without it last in schema order', () => {
    expect(fields.map((f) => f.key)).toEqual(['name', 'gender', 'city', 'email', 'birthday', 'interests', 'age', 'school', 'note']);
  });

  it('uses the title as label and marks required fields', () => {
    const name = fields.find((f) => f.key === 'name');
    expect(name).toMatchObject({ label: '姓名', widget: 'text', required: true, minLength: 2, maxLength: 20 });
    expect(fields.find((f) => f.key === 'email').required).toBe(false);
  });

  it('maps enum to single choice and array of enum to multiple choice', () => {
    const gender = fields.find((f) => f.key === 'gender');
    expect(gender.widget).toBe('radio');
    expect(gender.multiple).toBe(false);
    expect(gender.options.map((o) => o.value)).toEqual(['男', '女']);
    const interests = fields.find((f) => f.key === 'interests');
    expect(interests).toMatchObject({ widget: 'checkbox', multiple: true, minItems: 1, maxItems: 2 });
    expect(interests.options.map((o) => o.label)).toEqual(['编程', '绘画', '音乐']);
    expect(fields.find((f) => f.key === 'city').widget).toBe('select');
  });

  it('infers a widget when x-widget is missing or does not fit the type', () => {
    const f = buildFields({
      type: 'object',
      properties: {
        a: { type: 'string', enum: ['x', 'y'] },
        b: { type: 'string', enum: ['1', '2', '3', '4', '5'] },
        c: { type: 'string', format: 'email' },
        d: { type: 'string', format: 'date' },
        e: { type: 'number' },
        g: { type: 'string', maxLength: 500 },
        h: { type: 'string', 'x-widget': 'select' },
        i: { type: 'array', items: { enum: ['p', 'q'] }, 'x-widget': 'radio' },
        j: { type: 'string', 'x-widget': 'no-such-widget' },
      },
    });
    expect(Object.fromEntries(f.map((x) => [x.key, x.widget]))).toEqual({
      a: 'radio',
      b: 'select',
      c: 'email',
      d: 'date',
      e: 'number',
      g: 'textarea',
      h: 'text',
      i: 'checkbox',
      j: 'text',
    });
  });

  it('copies the constraints the page enforces', () => {
    const age = fields.find((f) => f.key === 'age');
    expect(age).toMatchObject({ widget: 'number', type: 'integer', minimum: 6, maximum: 18 });
    expect(fields.find((f) => f.key === 'school').pattern).toBe('^[\\u4e00-\\u9fa5]+$');
    expect(fields.find((f) => f.key === 'birthday').format).toBe('date');
  });

  it('gives placeholders in Chinese', () => {
    expect(fields.find((f) => f.key === 'name').placeholder).toBe('请输入姓名');
    expect(fields.find((f) => f.key === 'city').placeholder).toBe('请选择城市');
  });

  it('copes with an empty or missing schema', () => {
    expect(buildFields(undefined)).toEqual([]);
    expect(buildFields({ type: 'object' })).toEqual([]);
  });
});

describe('initialModel and toFormData', () => {
  const fields = buildFields(schema);

  it('starts with empty strings and empty arrays', () => {
    const m = initialModel(fields);
    expect(m.name).toBe('');
    expect(m.interests).toEqual([]);
  });

  it('drops empty answers, trims text and turns typed numbers into numbers', () => {
    const m = { ...initialModel(fields), name: '  张三 ', age: '12', interests: ['编程'], email: '' };
    expect(toFormData(fields, m)).toEqual({ name: '张三', age: 12, interests: ['编程'] });
  });

  it('keeps a non-numeric answer to a number field as text so validation reports it', () => {
    const m = { ...initialModel(fields), age: '十二' };
    expect(toFormData(fields, m).age).toBe('十二');
  });
});

describe('splitServerErrors', () => {
  it('maps formData.<key>, phone and smsCode, leaving the rest general', () => {
    const s = splitServerErrors({
      'formData.name': ['姓名不能为空'],
      phone: ['手机号格式不正确'],
      smsCode: ['验证码错误'],
      campaignId: ['活动已结束', '不可报名'],
    });
    expect(s.fields).toEqual({ name: '姓名不能为空' });
    expect(s.phone).toBe('手机号格式不正确');
    expect(s.smsCode).toBe('验证码错误');
    expect(s.other).toEqual(['活动已结束；不可报名']);
  });

  it('tolerates no errors', () => {
    expect(splitServerErrors(null)).toEqual({ phone: null, smsCode: null, fields: {}, other: [] });
  });
});
