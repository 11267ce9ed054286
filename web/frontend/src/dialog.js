// Modal dialogs on the native <dialog> element: focus is trapped, Escape cancels.

import { t } from './i18n.js';
import { h } from './util.js';

/**
 * Show a modal. `actions` are buttons `{label, value, primary?}`; resolves with the value of
 * the button pressed (after `validate(form)` passes) or null when cancelled.
 */
export function openDialog({ title, body, actions, validate, className = '' }) {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog', class: 'dialog-form' });
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dialog = h(
      'dialog',
      { class: `dialog ${className}`, 'aria-labelledby': titleId },
      form,
    );
    const buttons = (actions || [{ label: t('close'), value: 'close', primary: true }]).map((a) =>
      h('button', { type: 'submit', value: a.value, class: a.primary ? 'btn btn-primary' : 'btn' }, a.label),
    );
    form.append(h('h2', { id: titleId }, title), body || '', h('div', { class: 'dialog-actions' }, buttons));
    let result = null;
    form.addEventListener('submit', (ev) => {
      const value = ev.submitter ? ev.submitter.value : null;
      if (value && value !== 'cancel' && validate && !validate(form, value)) {
        ev.preventDefault();
        return;
      }
      result = value && value !== 'cancel' ? value : null;
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result === null ? null : { value: result, form });
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A labelled form field. */
export function field(labelText, control) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, labelText), control);
}

/** A <select> of `values`, labelled by `labelOf(value)`. */
export function select(name, values, labelOf, selected, extra = {}) {
  return h(
    'select',
    { name, ...extra },
    values.map((v) => h('option', { value: v, selected: v === selected }, labelOf(v))),
  );
}
