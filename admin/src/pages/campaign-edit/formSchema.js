// Registration form: designer model <-> JSON Schema draft-07 as docs/API.md defines it
// (`title`, `type`, `x-widget`, `x-order`, `required` at object level, enum / array of enum for
// choices). Pure functions, no Vue, so the H5 renderer's contract is tested in isolation.

import { WIDGETS, WIDGET_VALUES, WIDGET_LABELS, CHOICE_WIDGETS, widgetFor } from '@dmh/form-vocabulary';

export const SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

export { WIDGETS, WIDGET_LABELS, CHOICE_WIDGETS };
const WIDGET_SET = new Set(WIDGET_VALUES);

/** Widgets that take minLength / maxLength. */
export const LENGTH_WIDGETS = ['text', 'textarea', 'phone', 'email'];
/** Widgets that take a pattern. */
export const PATTERN_WIDGETS = ['text', 'textarea', 'phone'];

export const FIELD_KEY_RE = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
/** The registrant's name; the default sync mapping reads it. */
export const NAME_KEY = 'name';
/** The phone is a fixed order field, never a form key. */
export const FORBIDDEN_KEYS = ['phone'];
export const MAX_FIELDS = 50;
export const DEFAULT_PHONE_PATTERN = '^1[3-9]\\d{9}$';

export class FormSchemaError extends Error {
  /** @param {string} message @param {Array<{index?:number,key?:string,prop?:string,message:string}>} [errors] */
  constructor(message, errors = []) {
    super(message);
    this.name = 'FormSchemaError';
    this.errors = errors;
  }
}

/** A blank designer field. */
export function blankField(widget = 'text') {
  return {
    key: '',
    label: '',
    widget,
    required: false,
    options: [],
    minLength: null,
    maxLength: null,
    pattern: '',
    minimum: null,
    maximum: null,
    integer: false,
    minItems: null,
    maxItems: null,
  };
}

/** The first free `field_N` key. */
function freeFieldKey(used) {
  let n = 1;
  while (used.has(`field_${n}`)) n += 1;
  return `field_${n}`;
}

/**
 * A new field of `widget` with a free key (`field_1`, `field_2`, …) and sensible defaults. `autoKey`
 * marks a key the designer may still derive from the title (until the operator edits the key).
 */
export function createField(widget, existing = []) {
  if (!WIDGET_SET.has(widget)) throw new FormSchemaError(`不支持的字段类型：${widget}`);
  const f = blankField(widget);
  f.key = freeFieldKey(new Set(existing.map((x) => x.key)));
  f.label = WIDGET_LABELS[widget];
  f.autoKey = true;
  if (CHOICE_WIDGETS.includes(widget)) f.options = ['选项1', '选项2'];
  if (widget === 'phone') f.pattern = DEFAULT_PHONE_PATTERN;
  return f;
}

// Titles registration forms use most, with the keys an export or a sync mapping expects; any other
// Chinese title gets `field_N` (readable keys without shipping a pinyin dictionary to the admin).
const TITLE_KEYS = [
  [/^(姓名|名字|真实姓名|联系人|报名人姓名?)$/, 'name'],
  [/^(性别)$/, 'gender'],
  [/^(年龄)$/, 'age'],
  [/^(生日|出生日期)$/, 'birthday'],
  [/^(邮箱|电子邮箱|电子邮件|email|e-mail)$/i, 'email'],
  [/^(公司|单位|公司名称|工作单位|所在单位|企业名称)$/, 'company'],
  [/^(职位|职务|岗位)$/, 'job_title'],
  [/^(部门)$/, 'department'],
  [/^(行业|所属行业)$/, 'industry'],
  [/^(城市|所在城市)$/, 'city'],
  [/^(地址|联系地址|收货地址|通讯地址)$/, 'address'],
  [/^(学校|毕业院校|所在学校)$/, 'school'],
  [/^(年级)$/, 'grade'],
  [/^(班级)$/, 'class_name'],
  [/^(专业)$/, 'major'],
  [/^(学历)$/, 'education'],
  [/^(微信号?|微信)$/, 'wechat_id'],
  [/^(QQ号?)$/i, 'qq'],
  [/^(身份证号?|身份证号码)$/, 'id_number'],
  [/^(人数|参加人数|报名人数)$/, 'headcount'],
  [/^(备注|留言|其他说明)$/, 'remark'],
  [/^(参加方式|参与方式)$/, 'mode'],
  [/^(尺码|衣服尺码)$/, 'size'],
];

/**
 * The key a field titled `title` gets: a known title's English key, an ASCII title in snake_case, else
 * the field's current `field_N` (or the first free one). Never a key another field has, never `phone`,
 * and `name` only for a single-line text field.
 */
export function keyFromTitle(title, others = [], current = '', widget = 'text') {
  const used = new Set(others.map((x) => x.key));
  const t = String(title || '').trim();
  let key = TITLE_KEYS.find(([re]) => re.test(t))?.[1] || '';
  if (!key && /^[A-Za-z][A-Za-z0-9 _-]*$/.test(t)) {
    key = t
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 40);
  }
  if (key === NAME_KEY && widget !== 'text') key = '';
  if (key && !FORBIDDEN_KEYS.includes(key) && FIELD_KEY_RE.test(key)) {
    if (!used.has(key)) return key;
    for (let n = 2; n < 100; n += 1) if (!used.has(`${key}_${n}`) && `${key}_${n}`.length <= 40) return `${key}_${n}`;
  }
  return /^field_\d+$/.test(current) && !used.has(current) ? current : freeFieldKey(used);
}

/** The reserved registrant-name field. */
export function createNameField() {
  return { ...blankField('text'), key: NAME_KEY, label: '姓名', required: true, maxLength: 50 };
}

export function moveField(fields, from, to) {
  if (from < 0 || from >= fields.length || to < 0 || to >= fields.length || from === to) return fields.slice();
  const next = fields.slice();
  const [f] = next.splice(from, 1);
  next.splice(to, 0, f);
  return next;
}

const isBlank = (v) => v === null || v === undefined || v === '';
const isNonNegInt = (v) => Number.isInteger(v) && v >= 0;

function compiles(pattern) {
  try {
    // Ajv (the H5 validator) compiles patterns with the unicode flag
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a designer model. Returns `[{index, key, prop, message}]`, empty when the model is valid.
 * `prop` names the designer input the message belongs to.
 */
export function validateFields(fields) {
  const errors = [];
  if (!Array.isArray(fields)) return [{ message: '字段列表无效' }];
  if (fields.length > MAX_FIELDS) errors.push({ message: `最多 ${MAX_FIELDS} 个字段` });
  const seen = new Map();
  fields.forEach((f, index) => {
    const add = (prop, message) => errors.push({ index, key: f?.key, prop, message });
    if (!f || typeof f !== 'object') {
      errors.push({ index, message: '字段无效' });
      return;
    }
    if (!WIDGET_SET.has(f.widget)) add('widget', `不支持的字段类型：${f.widget}`);
    const key = typeof f.key === 'string' ? f.key : '';
    if (!FIELD_KEY_RE.test(key)) add('key', '字段标识须以字母开头，只含字母、数字、下划线，最长 40 位');
    else if (FORBIDDEN_KEYS.includes(key.toLowerCase())) add('key', '手机号是固定字段，不能用 phone');
    else if (seen.has(key)) add('key', `字段标识与第 ${seen.get(key) + 1} 个字段重复`);
    if (key === NAME_KEY && f.widget !== 'text') add('key', 'name 保留给报名人姓名，只能是单行文本');
    if (!seen.has(key)) seen.set(key, index);
    const label = typeof f.label === 'string' ? f.label.trim() : '';
    if (!label) add('label', '请填写字段名称');
    else if (label.length > 50) add('label', '字段名称最长 50 个字');

    if (CHOICE_WIDGETS.includes(f.widget)) {
      const opts = Array.isArray(f.options) ? f.options.map((o) => String(o ?? '').trim()) : [];
      if (opts.length === 0) add('options', '请至少添加一个选项');
      else if (opts.some((o) => !o)) add('options', '选项不能为空');
      else if (new Set(opts).size !== opts.length) add('options', '选项不能重复');
    }
    if (LENGTH_WIDGETS.includes(f.widget)) {
      if (!isBlank(f.minLength) && !isNonNegInt(f.minLength)) add('minLength', '最少字数须为非负整数');
      if (!isBlank(f.maxLength) && !(Number.isInteger(f.maxLength) && f.maxLength >= 1)) add('maxLength', '最多字数须为正整数');
      if (isNonNegInt(f.minLength) && Number.isInteger(f.maxLength) && f.minLength > f.maxLength)
        add('maxLength', '最多字数不能小于最少字数');
    }
    if (PATTERN_WIDGETS.includes(f.widget) && !isBlank(f.pattern)) {
      if (typeof f.pattern !== 'string' || !compiles(f.pattern)) add('pattern', '正则表达式无效');
    }
    if (f.widget === 'number') {
      const num = (v) => typeof v === 'number' && Number.isFinite(v);
      if (!isBlank(f.minimum) && !num(f.minimum)) add('minimum', '最小值须为数字');
      if (!isBlank(f.maximum) && !num(f.maximum)) add('maximum', '最大值须为数字');
      if (num(f.minimum) && num(f.maximum) && f.minimum > f.maximum) add('maximum', '最大值不能小于最小值');
      if (f.integer && ((num(f.minimum) && !Number.isInteger(f.minimum)) || (num(f.maximum) && !Number.isInteger(f.maximum))))
        add('minimum', '整数字段的上下限须为整数');
    }
    if (f.widget === 'checkbox') {
      const count = Array.isArray(f.options) ? f.options.length : 0;
      if (!isBlank(f.minItems) && !isNonNegInt(f.minItems)) add('minItems', '最少选择数须为非负整数');
      if (!isBlank(f.maxItems) && !(Number.isInteger(f.maxItems) && f.maxItems >= 1)) add('maxItems', '最多选择数须为正整数');
      if (isNonNegInt(f.minItems) && f.minItems > count) add('minItems', '最少选择数不能多于选项数');
      if (isNonNegInt(f.minItems) && Number.isInteger(f.maxItems) && f.minItems > f.maxItems)
        add('maxItems', '最多选择数不能小于最少选择数');
    }
  });
  return errors;
}

function fieldToProperty(f, order) {
  const p = { title: f.label.trim() };
  const opts = () => f.options.map((o) => String(o).trim());
  switch (f.widget) {
    case 'number':
      p.type = f.integer ? 'integer' : 'number';
      break;
    case 'checkbox':
      p.type = 'array';
      break;
    default:
      p.type = 'string';
  }
  p['x-widget'] = f.widget;
  p['x-order'] = order;
  if (LENGTH_WIDGETS.includes(f.widget)) {
    if (!isBlank(f.minLength)) p.minLength = f.minLength;
    if (!isBlank(f.maxLength)) p.maxLength = f.maxLength;
  }
  if (PATTERN_WIDGETS.includes(f.widget) && !isBlank(f.pattern)) p.pattern = f.pattern;
  if (f.widget === 'email') p.format = 'email';
  if (f.widget === 'date') p.format = 'date';
  if (f.widget === 'number') {
    if (!isBlank(f.minimum)) p.minimum = f.minimum;
    if (!isBlank(f.maximum)) p.maximum = f.maximum;
  }
  if (f.widget === 'select' || f.widget === 'radio') p.enum = opts();
  if (f.widget === 'checkbox') {
    p.items = { type: 'string', enum: opts() };
    if (!isBlank(f.minItems)) p.minItems = f.minItems;
    if (!isBlank(f.maxItems)) p.maxItems = f.maxItems;
  }
  return p;
}

/** Designer model → JSON Schema draft-07. Throws FormSchemaError (with `errors`) on an invalid model. */
export function fieldsToSchema(fields) {
  const errors = validateFields(fields);
  if (errors.length) throw new FormSchemaError(errors[0].message, errors);
  const properties = {};
  const required = [];
  fields.forEach((f, i) => {
    properties[f.key] = fieldToProperty(f, i + 1);
    if (f.required) required.push(f.key);
  });
  const schema = { $schema: SCHEMA_DRAFT, type: 'object', properties };
  if (required.length) schema.required = required;
  return schema;
}

/** The schema of a form with no custom fields. */
export function emptySchema() {
  return fieldsToSchema([]);
}

const TYPE_OF_WIDGET = (w) => (w === 'number' ? ['number', 'integer'] : w === 'checkbox' ? ['array'] : ['string']);

function optionalInt(p, name, key) {
  if (p[name] === undefined) return null;
  if (!Number.isInteger(p[name]) || p[name] < 0) throw new FormSchemaError(`字段 ${key} 的 ${name} 须为非负整数`);
  return p[name];
}

function optionalNumber(p, name, key) {
  if (p[name] === undefined) return null;
  if (typeof p[name] !== 'number' || !Number.isFinite(p[name])) throw new FormSchemaError(`字段 ${key} 的 ${name} 须为数字`);
  return p[name];
}

function enumOf(list, key) {
  if (!Array.isArray(list) || list.length === 0) throw new FormSchemaError(`字段 ${key} 缺少选项（enum）`);
  if (list.some((o) => typeof o !== 'string' && typeof o !== 'number')) throw new FormSchemaError(`字段 ${key} 的选项须为文本`);
  return list.map(String);
}

/** JSON Schema (as stored on a campaign) → designer model, ordered by `x-order`. Throws FormSchemaError on bad input. */
export function schemaToFields(schema) {
  if (schema === null || schema === undefined) return [];
  if (typeof schema === 'string') {
    try {
      schema = JSON.parse(schema);
    } catch {
      throw new FormSchemaError('表单结构不是有效的 JSON');
    }
  }
  if (typeof schema !== 'object' || Array.isArray(schema)) throw new FormSchemaError('表单结构须为 JSON 对象');
  if (schema.type !== 'object') throw new FormSchemaError('表单结构的 type 须为 object');
  const props = schema.properties ?? {};
  if (typeof props !== 'object' || Array.isArray(props) || props === null) throw new FormSchemaError('properties 须为对象');
  const required = schema.required ?? [];
  if (!Array.isArray(required) || required.some((r) => typeof r !== 'string')) throw new FormSchemaError('required 须为字段标识数组');
  for (const r of required) if (!Object.hasOwn(props, r)) throw new FormSchemaError(`required 中的 ${r} 不是表单字段`);

  const entries = Object.entries(props).map(([key, p], pos) => {
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw new FormSchemaError(`字段 ${key} 的定义须为对象`);
    if (!FIELD_KEY_RE.test(key)) throw new FormSchemaError(`字段标识 ${key} 无效`);
    if (FORBIDDEN_KEYS.includes(key.toLowerCase())) throw new FormSchemaError('手机号是订单固定字段，不能出现在表单中');
    if (p['x-widget'] !== undefined && !WIDGET_SET.has(p['x-widget']))
      throw new FormSchemaError(`字段 ${key} 的 x-widget 不受支持：${p['x-widget']}`);
    // The widget the H5 page shows, so the preview shows the same.
    const widget = widgetFor(p);
    if (p.type !== undefined && !TYPE_OF_WIDGET(widget).includes(p.type))
      throw new FormSchemaError(`字段 ${key} 的 type ${p.type} 与控件 ${widget} 不符`);
    if (p['x-order'] !== undefined && (typeof p['x-order'] !== 'number' || !Number.isFinite(p['x-order'])))
      throw new FormSchemaError(`字段 ${key} 的 x-order 须为数字`);
    if (p.title !== undefined && typeof p.title !== 'string') throw new FormSchemaError(`字段 ${key} 的 title 须为文本`);

    const f = blankField(widget);
    f.key = key;
    f.label = p.title ?? key;
    f.required = required.includes(key);
    if (LENGTH_WIDGETS.includes(widget)) {
      f.minLength = optionalInt(p, 'minLength', key);
      f.maxLength = optionalInt(p, 'maxLength', key);
    }
    if (PATTERN_WIDGETS.includes(widget) && p.pattern !== undefined) {
      if (typeof p.pattern !== 'string' || !compiles(p.pattern)) throw new FormSchemaError(`字段 ${key} 的 pattern 无效`);
      f.pattern = p.pattern;
    }
    if (widget === 'number') {
      f.integer = p.type === 'integer';
      f.minimum = optionalNumber(p, 'minimum', key);
      f.maximum = optionalNumber(p, 'maximum', key);
    }
    if (widget === 'select' || widget === 'radio') f.options = enumOf(p.enum, key);
    if (widget === 'checkbox') {
      if (!p.items || typeof p.items !== 'object') throw new FormSchemaError(`字段 ${key} 缺少 items`);
      f.options = enumOf(p.items.enum, key);
      f.minItems = optionalInt(p, 'minItems', key);
      f.maxItems = optionalInt(p, 'maxItems', key);
    }
    const order = typeof p['x-order'] === 'number' ? p['x-order'] : Number.POSITIVE_INFINITY;
    return { f, order, pos };
  });
  entries.sort((a, b) => a.order - b.order || a.pos - b.pos);
  return entries.map((e) => e.f);
}
