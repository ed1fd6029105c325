/** Chinese messages for Ajv errors, worded with the field's label. */
export function zhMessage(error, field) {
  const label = field?.label || '';
  const choice = field && ['select', 'radio', 'checkbox', 'date'].includes(field.widget);
  const p = error.params || {};
  switch (error.keyword) {
    case 'required':
      return choice ? `请选择${label}` : `请填写${label}`;
    case 'minLength':
      return `${label}至少 ${p.limit} 个字`;
    case 'maxLength':
      return `${label}最多 ${p.limit} 个字`;
    case 'minimum':
      return `${label}不能小于 ${p.limit}`;
    case 'maximum':
      return `${label}不能大于 ${p.limit}`;
    case 'exclusiveMinimum':
      return `${label}必须大于 ${p.limit}`;
    case 'exclusiveMaximum':
      return `${label}必须小于 ${p.limit}`;
    case 'pattern':
      return `${label}格式不正确`;
    case 'format':
      if (p.format === 'email') return '请输入有效的邮箱地址';
      if (p.format === 'date') return '请选择有效的日期';
      return `${label}格式不正确`;
    case 'enum':
      return `请从选项中选择${label}`;
    case 'minItems':
      return `${label}至少选择 ${p.limit} 项`;
    case 'maxItems':
      return `${label}最多选择 ${p.limit} 项`;
    case 'uniqueItems':
      return `${label}不能重复选择`;
    case 'type':
      if (p.type === 'integer') return `${label}请输入整数`;
      if (p.type === 'number') return `${label}请输入数字`;
      return `${label}填写有误`;
    default:
      return `${label}填写有误`;
  }
}

/** Which form field an Ajv error belongs to. */
export function errorKey(error) {
  if (error.keyword === 'required' && error.params?.missingProperty) return error.params.missingProperty;
  const path = error.instancePath || '';
  const first = path.split('/')[1];
  return first ? first.replace(/~1/g, '/').replace(/~0/g, '~') : '';
}
