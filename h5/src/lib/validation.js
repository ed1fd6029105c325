// Loaded with import() so Ajv stays out of the first paint's bundle.
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { zhMessage, errorKey } from './messages.js';

let ajv;
function instance() {
  if (!ajv) {
    // strict: false lets the display hints (x-widget, x-order) through, as the server does.
    ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv, ['email', 'date']);
  }
  return ajv;
}

/** Compiles the campaign schema; the returned function gives `{ valid, errors: {key: zh message} }`. */
export function createValidator(schema, fields) {
  const byKey = Object.fromEntries((fields || []).map((f) => [f.key, f]));
  // $id would clash in Ajv's registry on a second compile; the contract fixes draft-07 anyway.
  const { $id, $schema, ...rest } = schema || {};
  const validate = instance().compile(rest);
  return (data) => {
    const ok = validate(data);
    const errors = {};
    if (!ok) {
      for (const e of validate.errors || []) {
        const key = errorKey(e);
        if (errors[key]) continue;
        const field = byKey[key] || { label: schema?.properties?.[key]?.title || key };
        errors[key] = zhMessage(e, field);
      }
    }
    return { valid: !!ok, errors };
  };
}
