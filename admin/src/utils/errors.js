/** Messages of a problem's `errors` for the given request field(s), joined for el-form-item :error. */
export function fieldError(errors, ...keys) {
  if (!errors) return '';
  const msgs = [];
  for (const k of keys) {
    if (errors[k]) msgs.push(...errors[k]);
    // nested keys such as formSchema.properties.x
    for (const [ek, ev] of Object.entries(errors)) if (ek.startsWith(`${k}.`)) msgs.push(...ev);
  }
  return [...new Set(msgs)].join('；');
}

/** The problem's messages not claimed by any of `known` (shown in a general alert instead). */
export function otherErrors(errors, known) {
  if (!errors) return [];
  return Object.entries(errors)
    .filter(([k]) => !known.some((n) => k === n || k.startsWith(`${n}.`)))
    .flatMap(([k, v]) => v.map((m) => `${k}：${m}`));
}
