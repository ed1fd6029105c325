import { describe, it, expect } from 'vitest';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import {
  SCHEMA_DRAFT,
  WIDGETS,
  FormSchemaError,
  blankField,
  createField,
  createNameField,
  fieldsToSchema,
  schemaToFields,
  validateFields,
  moveField,
  emptySchema,
  keyFromTitle,
  DEFAULT_PHONE_PATTERN,
} from './formSchema.js';

const field = (over) => ({ ...blankField(over.widget || 'text'), ...over });

const sample = () => [
  createNameField(),
  field({ key: 'company', label: '公司', widget: 'text', maxLength: 100, minLength: 2 }),
  field({ key: 'intro', label: '自我介绍', widget: 'textarea', maxLength: 500 }),
  field({ key: 'age', label: '年龄', widget: 'number', integer: true, minimum: 18, maximum: 60, required: true }),
  field({ key: 'backupPhone', label: '备用手机', widget: 'phone', pattern: DEFAULT_PHONE_PATTERN }),
  field({ key: 'mail', label: '邮箱', widget: 'email' }),
  field({ key: 'birthday', label: '生日', widget: 'date' }),
  field({ key: 'city', label: '城市', widget: 'select', options: ['北京', '上海'], required: true }),
  field({ key: 'size', label: '尺码', widget: 'radio', options: ['S', 'M', 'L'] }),
  field({ key: 'topics', label: '感兴趣的话题', widget: 'checkbox', options: ['A', 'B', 'C'], minItems: 1, maxItems: 2 }),
];

describe('fieldsToSchema', () => {
  it('produces a draft-07 object schema with required at object level', () => {
    const s = fieldsToSchema(sample());
    expect(s.$schema).toBe(SCHEMA_DRAFT);
    expect(s.type).toBe('object');
    expect(s.required).toEqual(['name', 'age', 'city']);
    expect(Object.keys(s.properties)).toEqual([
      'name',
      'company',
      'intro',
      'age',
      'backupPhone',
      'mail',
      'birthday',
      'city',
      'size',
      'topics',
    ]);
    for (const p of Object.values(s.properties)) expect(p).not.toHaveProperty('required');
  });

  it('numbers x-order from 1 in list order', () => {
    const s = fieldsToSchema(sample());
    expect(Object.values(s.properties).map((p) => p['x-order'])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('maps every widget to its type and keywords', () => {
    const p = fieldsToSchema(sample()).properties;
    expect(p.name).toEqual({ title: '姓名', type: 'string', 'x-widget': 'text', 'x-order': 1, maxLength: 50 });
    expect(p.company).toEqual({ title: '公司', type: 'string', 'x-widget': 'text', 'x-order': 2, minLength: 2, maxLength: 100 });
    expect(p.intro).toEqual({ title: '自我介绍', type: 'string', 'x-widget': 'textarea', 'x-order': 3, maxLength: 500 });
    expect(p.age).toEqual({ title: '年龄', type: 'integer', 'x-widget': 'number', 'x-order': 4, minimum: 18, maximum: 60 });
    expect(p.backupPhone).toEqual({ title: '备用手机', type: 'string', 'x-widget': 'phone', 'x-order': 5, pattern: DEFAULT_PHONE_PATTERN });
    expect(p.mail).toEqual({ title: '邮箱', type: 'string', 'x-widget': 'email', 'x-order': 6, format: 'email' });
    expect(p.birthday).toEqual({ title: '生日', type: 'string', 'x-widget': 'date', 'x-order': 7, format: 'date' });
    expect(p.city).toEqual({ title: '城市', type: 'string', 'x-widget': 'select', 'x-order': 8, enum: ['北京', '上海'] });
    expect(p.size).toEqual({ title: '尺码', type: 'string', 'x-widget': 'radio', 'x-order': 9, enum: ['S', 'M', 'L'] });
    expect(p.topics).toEqual({
      title: '感兴趣的话题',
      type: 'array',
      'x-widget': 'checkbox',
      'x-order': 10,
      items: { type: 'string', enum: ['A', 'B', 'C'] },
      minItems: 1,
      maxItems: 2,
    });
  });

  it('plain number fields are type number; fractional bounds kept', () => {
    const p = fieldsToSchema([field({ key: 'w', label: '体重', widget: 'number', minimum: 0.5, maximum: 200 })]).properties.w;
    expect(p.type).toBe('number');
    expect(p.minimum).toBe(0.5);
  });

  it('omits required when nothing is required, and empties cleanly', () => {
    const s = fieldsToSchema([field({ key: 'a', label: 'A' })]);
    expect(s).not.toHaveProperty('required');
    expect(emptySchema()).toEqual({ $schema: SCHEMA_DRAFT, type: 'object', properties: {} });
  });

  it('trims labels and options and drops keywords that do not belong to the widget', () => {
    const p = fieldsToSchema([
      field({ key: 'c', label: '  城市 ', widget: 'select', options: [' 北京 ', '上海'], maxLength: 5, pattern: 'x' }),
    ]).properties.c;
    expect(p.title).toBe('城市');
    expect(p.enum).toEqual(['北京', '上海']);
    expect(p).not.toHaveProperty('maxLength');
    expect(p).not.toHaveProperty('pattern');
  });

  it('never emits a phone key and rejects invalid models with per-field errors', () => {
    expect(() => fieldsToSchema([field({ key: 'phone', label: '手机', widget: 'phone' })])).toThrow(FormSchemaError);
    try {
      fieldsToSchema([field({ key: 'a', label: '' }), field({ key: 'a', label: 'B' })]);
      expect.unreachable();
    } catch (e) {
      expect(e.errors.map((x) => [x.index, x.prop])).toEqual([
        [0, 'label'],
        [1, 'key'],
      ]);
    }
  });
});

describe('schemaToFields', () => {
  it('round-trips every field type', () => {
    const fields = sample();
    expect(schemaToFields(fieldsToSchema(fields))).toEqual(fields);
  });

  it('round-trips schema → model → schema', () => {
    const s = fieldsToSchema(sample());
    expect(fieldsToSchema(schemaToFields(s))).toEqual(s);
  });

  it('orders by x-order, not by property order', () => {
    const s = {
      type: 'object',
      properties: {
        b: { title: 'B', type: 'string', 'x-widget': 'text', 'x-order': 2 },
        c: { title: 'C', type: 'string', 'x-widget': 'text' },
        a: { title: 'A', type: 'string', 'x-widget': 'text', 'x-order': 1 },
      },
    };
    expect(schemaToFields(s).map((f) => f.key)).toEqual(['a', 'b', 'c']);
  });

  it('reads required from the object level', () => {
    const s = { type: 'object', properties: { a: { title: 'A', type: 'string' }, b: { title: 'B', type: 'string' } }, required: ['b'] };
    expect(schemaToFields(s).map((f) => f.required)).toEqual([false, true]);
  });

  it('infers widgets when x-widget is missing, as the H5 page does', () => {
    const s = {
      type: 'object',
      properties: {
        t: { type: 'string' },
        n: { type: 'integer' },
        e: { type: 'string', format: 'email' },
        d: { type: 'string', format: 'date' },
        s: { type: 'string', enum: ['x', 'y'] },
        l: { type: 'string', enum: ['1', '2', '3', '4', '5'] },
        m: { type: 'array', items: { type: 'string', enum: ['x'] } },
        a: { type: 'string', maxLength: 500 },
      },
    };
    expect(schemaToFields(s).map((f) => f.widget)).toEqual(['text', 'number', 'email', 'date', 'radio', 'select', 'checkbox', 'textarea']);
    expect(schemaToFields(s)[0].label).toBe('t');
  });

  it('shows a choice widget without options as the H5 page does, as a text box', () => {
    const s = { type: 'object', properties: { a: { title: 'A', type: 'string', 'x-widget': 'radio' } } };
    expect(schemaToFields(s)[0]).toMatchObject({ key: 'a', widget: 'text', options: [] });
  });

  it('accepts null and a JSON string', () => {
    expect(schemaToFields(null)).toEqual([]);
    expect(schemaToFields('{"type":"object","properties":{"a":{"title":"A","type":"string","x-widget":"text"}}}')[0].key).toBe('a');
  });

  it.each([
    ['not an object', []],
    ['wrong root type', { type: 'array' }],
    ['bad JSON text', '{'],
    ['properties not an object', { type: 'object', properties: [] }],
    ['required not an array', { type: 'object', properties: {}, required: 'a' }],
    ['required names an unknown field', { type: 'object', properties: {}, required: ['a'] }],
    ['a phone key', { type: 'object', properties: { phone: { type: 'string', 'x-widget': 'phone' } } }],
    ['an invalid key', { type: 'object', properties: { '1a': { type: 'string' } } }],
    ['an unknown widget', { type: 'object', properties: { a: { type: 'string', 'x-widget': 'slider' } } }],
    ['a type that does not fit the widget', { type: 'object', properties: { a: { type: 'string', 'x-widget': 'number' } } }],
    [
      'a checkbox whose options are not in items',
      { type: 'object', properties: { a: { type: 'array', enum: ['x'], 'x-widget': 'checkbox' } } },
    ],
    ['a checkbox without items', { type: 'object', properties: { a: { type: 'array', 'x-widget': 'checkbox' } } }],
    ['a bad pattern', { type: 'object', properties: { a: { type: 'string', pattern: '([' } } }],
    ['a negative maxLength', { type: 'object', properties: { a: { type: 'string', maxLength: -1 } } }],
    ['a non-numeric minimum', { type: 'object', properties: { a: { type: 'number', minimum: '1' } } }],
    ['a property that is not an object', { type: 'object', properties: { a: true } }],
  ])('rejects %s', (_, bad) => {
    expect(() => schemaToFields(bad)).toThrow(FormSchemaError);
  });
});

describe('validateFields', () => {
  it('accepts the sample', () => {
    expect(validateFields(sample())).toEqual([]);
  });

  const one = (over) => validateFields([field({ key: 'a', label: 'A', ...over })]).map((e) => e.prop);

  it('checks keys', () => {
    expect(one({ key: '' })).toEqual(['key']);
    expect(one({ key: '中文' })).toEqual(['key']);
    expect(one({ key: 'Phone' })).toEqual(['key']);
    expect(one({ key: 'name', widget: 'textarea' })).toEqual(['key']);
  });

  it('checks options of choice fields', () => {
    expect(one({ widget: 'select', options: [] })).toEqual(['options']);
    expect(one({ widget: 'radio', options: ['x', ' '] })).toEqual(['options']);
    expect(one({ widget: 'checkbox', options: ['x', 'x'] })).toEqual(['options']);
  });

  it('checks validation keywords', () => {
    expect(one({ minLength: 5, maxLength: 3 })).toEqual(['maxLength']);
    expect(one({ minLength: -1 })).toEqual(['minLength']);
    expect(one({ maxLength: 0 })).toEqual(['maxLength']);
    expect(one({ pattern: '[' })).toEqual(['pattern']);
    expect(one({ widget: 'number', minimum: 10, maximum: 1 })).toEqual(['maximum']);
    expect(one({ widget: 'number', integer: true, minimum: 1.5 })).toEqual(['minimum']);
    expect(one({ widget: 'checkbox', options: ['x'], minItems: 2 })).toEqual(['minItems']);
    expect(one({ widget: 'checkbox', options: ['x', 'y', 'z'], minItems: 2, maxItems: 1 })).toEqual(['maxItems']);
  });

  it('requires a label', () => {
    expect(one({ label: '  ' })).toEqual(['label']);
  });
});

describe('designer helpers', () => {
  it('creates fields with free keys and defaults per widget', () => {
    const a = createField('text', []);
    const b = createField('text', [a]);
    expect([a.key, b.key]).toEqual(['field_1', 'field_2']);
    expect(createField('radio').options.length).toBe(2);
    expect(createField('phone').pattern).toBe(DEFAULT_PHONE_PATTERN);
    expect(createField('phone').key).not.toBe('phone');
    for (const w of WIDGETS) expect(validateFields([createField(w.value)])).toEqual([]);
    expect(() => createField('slider')).toThrow(FormSchemaError);
  });

  it('moves fields without mutating the input', () => {
    const list = ['a', 'b', 'c'].map((key) => field({ key, label: key }));
    const moved = moveField(list, 2, 0);
    expect(moved.map((f) => f.key)).toEqual(['c', 'a', 'b']);
    expect(list.map((f) => f.key)).toEqual(['a', 'b', 'c']);
    expect(moveField(list, 0, 5).map((f) => f.key)).toEqual(['a', 'b', 'c']);
    expect(fieldsToSchema(moved).properties.c['x-order']).toBe(1);
  });
});

describe('the schema as the H5 page validates it (Ajv, draft-07)', () => {
  const ajv = new Ajv({ strict: true, allErrors: true });
  ajv.addVocabulary(['x-widget', 'x-order']);
  addFormats(ajv, ['email', 'date']);
  const validate = ajv.compile(fieldsToSchema(sample()));
  const good = {
    name: '张三',
    company: '某某科技',
    age: 30,
    backupPhone: '13800138000',
    mail: 'a@b.cn',
    birthday: '1990-01-31',
    city: '上海',
    size: 'M',
    topics: ['A'],
  };

  it('compiles in strict mode with the x- keywords declared', () => {
    expect(validate(good)).toBe(true);
  });

  it.each([
    ['a missing required field', { ...good, city: undefined }],
    ['a value outside the enum', { ...good, city: '广州' }],
    ['too many choices', { ...good, topics: ['A', 'B', 'C'] }],
    ['a number below minimum', { ...good, age: 17 }],
    ['a fractional integer', { ...good, age: 30.5 }],
    ['a bad email', { ...good, mail: 'nope' }],
    ['a bad date', { ...good, birthday: '1990-02-31' }],
    ['a phone not matching the pattern', { ...good, backupPhone: '12345' }],
    ['a too short text', { ...good, company: 'x' }],
  ])('rejects %s', (_, data) => {
    const d = JSON.parse(JSON.stringify(data));
    expect(validate(d)).toBe(false);
  });
});

describe('keyFromTitle', () => {
  it('gives common titles their English key', () => {
    expect(keyFromTitle('公司名称')).toBe('company');
    expect(keyFromTitle(' 邮箱 ')).toBe('email');
    expect(keyFromTitle('姓名')).toBe('name');
  });

  it('keeps name for single-line text only and never collides with another field', () => {
    expect(keyFromTitle('姓名', [], 'field_1', 'radio')).toBe('field_1');
    expect(keyFromTitle('公司', [{ key: 'company' }])).toBe('company_2');
  });

  it('turns an ASCII title into snake_case and any other title into field_N', () => {
    expect(keyFromTitle('Team Size')).toBe('team_size');
    expect(keyFromTitle('jobTitle')).toBe('job_title');
    expect(keyFromTitle('你最想学的课程', [{ key: 'field_1' }], 'field_2')).toBe('field_2');
    expect(keyFromTitle('你最想学的课程', [{ key: 'field_1' }])).toBe('field_2');
    expect(keyFromTitle('Phone')).toMatch(/^field_\d+$/);
  });
});
