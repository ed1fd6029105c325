import { describe, it, expect } from 'vitest';
import { fieldError, otherErrors } from './errors.js';

const errors = { name: ['必填'], 'reward.amountFen': ['奖励过高'], 'formSchema.properties.city': ['选项重复'], extra: ['未知'] };

describe('field errors', () => {
  it('joins the messages of a field and of its nested keys', () => {
    expect(fieldError(errors, 'name')).toBe('必填');
    expect(fieldError(errors, 'reward')).toBe('奖励过高');
    expect(fieldError(errors, 'startTime', 'endTime')).toBe('');
    expect(fieldError(undefined, 'name')).toBe('');
  });
  it('lists the messages no form item claims', () => {
    expect(otherErrors(errors, ['name', 'reward', 'formSchema'])).toEqual(['extra：未知']);
  });
});
