import { describe, it, expect } from 'vitest';
import { WIDGETS, WIDGET_VALUES, WIDGET_LABELS, CHOICE_WIDGETS, inferWidget, widgetFor } from '@dmh/form-vocabulary';

// The shared vocabulary (packages/form-vocabulary) that this designer, its preview and the H5 page use.
describe('form vocabulary', () => {
  it('names every widget once, each with a label', () => {
    expect(new Set(WIDGET_VALUES).size).toBe(WIDGETS.length);
    for (const w of WIDGET_VALUES) expect(WIDGET_LABELS[w]).toMatch(/\S/);
    for (const w of CHOICE_WIDGETS) expect(WIDGET_VALUES).toContain(w);
  });

  it.each([
    ['a plain string', { type: 'string' }, 'text'],
    ['a long string', { type: 'string', maxLength: 101 }, 'textarea'],
    ['a string of at most 100', { type: 'string', maxLength: 100 }, 'text'],
    ['an integer', { type: 'integer' }, 'number'],
    ['a number', { type: 'number' }, 'number'],
    ['an email', { type: 'string', format: 'email' }, 'email'],
    ['a date', { type: 'string', format: 'date' }, 'date'],
    ['four options', { type: 'string', enum: ['a', 'b', 'c', 'd'] }, 'radio'],
    ['five options', { type: 'string', enum: ['a', 'b', 'c', 'd', 'e'] }, 'select'],
    ['an array', { type: 'array', items: { type: 'string', enum: ['a'] } }, 'checkbox'],
  ])('infers the widget for %s', (_, prop, widget) => {
    expect(inferWidget(prop)).toBe(widget);
    expect(widgetFor(prop)).toBe(widget);
  });

  it.each([
    ['a dropdown with few options', { type: 'string', enum: ['a', 'b'], 'x-widget': 'select' }, 'select'],
    ['radios with many options', { type: 'string', enum: ['1', '2', '3', '4', '5', '6'], 'x-widget': 'radio' }, 'radio'],
    ['a text box over options', { type: 'string', enum: ['a', 'b'], 'x-widget': 'text' }, 'radio'],
    ['a choice without options', { type: 'string', 'x-widget': 'select' }, 'text'],
    ['radios over an array', { type: 'array', items: { type: 'string', enum: ['a'] }, 'x-widget': 'radio' }, 'checkbox'],
    ['a phone', { type: 'string', 'x-widget': 'phone' }, 'phone'],
    ['an unknown widget', { type: 'string', 'x-widget': 'slider' }, 'text'],
  ])('takes x-widget only where it fits: %s', (_, prop, widget) => {
    expect(widgetFor(prop)).toBe(widget);
  });
});
