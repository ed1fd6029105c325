// The vocabulary of registration forms (docs/API.md "Dynamic forms"), one copy for the admin designer,
// its preview and the H5 page. widgets.json is also read by a Dmh.UnitTests test that holds
// Dmh.Ingress's FormSchemaValidator.Widgets to the same list.
import widgets from './widgets.json';

/** `[{ value, label }]` in the designer's order. */
export const WIDGETS = widgets;
export const WIDGET_VALUES = widgets.map((w) => w.value);
export const WIDGET_LABELS = Object.fromEntries(widgets.map((w) => [w.value, w.label]));

/** Widgets whose value is one or more of the field's options. */
export const CHOICE_WIDGETS = ['select', 'radio', 'checkbox'];
/** A single choice without an `x-widget` shows radios up to this many options, a dropdown above. */
export const RADIO_MAX_OPTIONS = 4;
/** A string without an `x-widget` whose maxLength is above this gets a multi-line box. */
export const SINGLE_LINE_MAX_LENGTH = 100;

export const isWidget = (w) => WIDGET_VALUES.includes(w);

/** The widget for a property whose `x-widget` is missing or does not fit it. */
export function inferWidget(prop) {
  const t = prop.type;
  if (t === 'array') return 'checkbox';
  if (Array.isArray(prop.enum)) return prop.enum.length <= RADIO_MAX_OPTIONS ? 'radio' : 'select';
  if (prop.format === 'email') return 'email';
  if (prop.format === 'date') return 'date';
  if (t === 'number' || t === 'integer') return 'number';
  if (typeof prop.maxLength === 'number' && prop.maxLength > SINGLE_LINE_MAX_LENGTH) return 'textarea';
  return 'text';
}

/**
 * The widget the H5 page shows a schema property with: its `x-widget` where that fits the property
 * (a choice widget only with options, a multiple choice always as checkboxes), otherwise inferred.
 */
export function widgetFor(prop) {
  const w = prop['x-widget'];
  if (prop.type === 'array' && prop.items && Array.isArray(prop.items.enum)) return 'checkbox';
  if (Array.isArray(prop.enum)) return w === 'select' || w === 'radio' ? w : inferWidget(prop);
  if (isWidget(w) && !CHOICE_WIDGETS.includes(w)) return w;
  return inferWidget(prop);
}
