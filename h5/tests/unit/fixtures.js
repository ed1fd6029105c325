export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['name', 'gender', 'city', 'interests', 'age'],
  properties: {
    note: { type: 'string', title: '备注', maxLength: 200, 'x-widget': 'textarea' },
    name: { type: 'string', title: '姓名', minLength: 2, maxLength: 20, 'x-widget': 'text', 'x-order': 1 },
    gender: { type: 'string', title: '性别', enum: ['男', '女'], 'x-widget': 'radio', 'x-order': 2 },
    city: { type: 'string', title: '城市', enum: ['北京', '上海', '广州', '深圳', '杭州'], 'x-widget': 'select', 'x-order': 3 },
    email: { type: 'string', title: '邮箱', format: 'email', 'x-widget': 'email', 'x-order': 4 },
    birthday: { type: 'string', title: '生日', format: 'date', 'x-widget': 'date', 'x-order': 5 },
    interests: {
      type: 'array',
      title: '兴趣',
      items: { type: 'string', enum: ['编程', '绘画', '音乐'] },
      minItems: 1,
      maxItems: 2,
      'x-widget': 'checkbox',
      'x-order': 6,
    },
    age: { type: 'integer', title: '年龄', minimum: 6, maximum: 18, 'x-widget': 'number', 'x-order': 7 },
    school: { type: 'string', title: '学校', pattern: '^[\\u4e00-\\u9fa5]+$', 'x-order': 8 },
  },
};
