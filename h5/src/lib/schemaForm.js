/**
 * Maps the campaign's JSON Schema (draft-07, docs/API.md "Dynamic forms") to the fields the page
 * renders, and the page's model back to the `formData` the order carries.
 */
import { widgetFor } from '@dmh/form-vocabulary';

const NUMERIC = /^-?\d+(\.\d+)?$/;

export function buildFields(schema) {
  const props = (schema && schema.properties) || {};
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  return Object.keys(props)
    .map((key, index) => ({ key, index, prop: props[key] || {} }))
    .sort((a, b) => {
      const oa = Number.isFinite(a.prop['x-order']) ? a.prop['x-order'] : Number.MAX_SAFE_INTEGER;
      const ob = Number.isFinite(b.prop['x-order']) ? b.prop['x-order'] : Number.MAX_SAFE_INTEGER;
      return oa - ob || a.index - b.index;
    })
    .map(({ key, prop }) => {
      const widget = widgetFor(prop);
      const enumValues = widget === 'checkbox' ? prop.items?.enum || [] : prop.enum || [];
      const label = prop.title || key;
      return {
        key,
        label,
        widget,
        type: prop.type || 'string',
        required: required.has(key),
        multiple: widget === 'checkbox',
        options: enumValues.map((value) => ({ value, label: String(value) })),
        minLength: prop.minLength,
        maxLength: prop.maxLength,
        minimum: prop.minimum,
        maximum: prop.maximum,
        minItems: prop.minItems,
        maxItems: prop.maxItems,
        pattern: prop.pattern,
        format: prop.format,
        description: prop.description || '',
        placeholder:
          prop['x-placeholder'] || (['select', 'date', 'radio', 'checkbox'].includes(widget) ? `请选择${label}` : `请输入${label}`),
      };
    });
}

export function initialModel(fields) {
  const model = {};
  for (const f of fields) model[f.key] = f.multiple ? [] : '';
  return model;
}

/**
 * The page model → `formData`: empty answers are left out (so `required` reports them and optional
 * fields are not checked against minLength/pattern), numbers typed as text become numbers.
 */
export function toFormData(fields, model) {
  const out = {};
  for (const f of fields) {
    let v = model[f.key];
    if (f.multiple) {
      if (Array.isArray(v) && v.length) out[f.key] = [...v];
      continue;
    }
    if (v == null) continue;
    if (typeof v === 'string') {
      v = v.trim();
      if (v === '') continue;
      if ((f.type === 'number' || f.type === 'integer') && NUMERIC.test(v)) v = Number(v);
    }
    out[f.key] = v;
  }
  return out;
}

/** RFC 7807 `errors` → `{ phone, smsCode, fields: {key: msg}, other: [msg] }`. */
export function splitServerErrors(errors) {
  const result = { phone: null, smsCode: null, fields: {}, other: [] };
  if (!errors || typeof errors !== 'object') return result;
  for (const [name, msgs] of Object.entries(errors)) {
    const msg = Array.isArray(msgs) ? msgs.join('；') : String(msgs);
    const lower = name.toLowerCase();
    if (name.startsWith('formData.')) result.fields[name.slice('formData.'.length)] = msg;
    else if (lower === 'phone') result.phone = msg;
    else if (lower === 'smscode') result.smsCode = msg;
    else result.other.push(msg);
  }
  return result;
}
