// A social worker records what a holder gave for a match of its plans (the match names the
// plan, the need and the holder, so the form asks only how much, when and what).

import { api, newKey } from './api.js';
import { h } from './dom.js';
import { CONTRIBUTION_UNITS } from './i18n.js';
import { busy, field, input, italyTodayIso, openDialog, showFormError, textarea } from './ui.js';

// A contribution is recorded for a match that was agreed, is running or has ended.
export const CONTRIBUTING = new Set(['accepted', 'active', 'completed']);

/** Opens the dialog for `match` (an item of /api/matches); onSaved(entry) after recording. */
export function matchContributionDialog(match, onSaved) {
  const unit = h('select', { name: 'unit' }, Object.entries(CONTRIBUTION_UNITS).map(([v, t]) => h('option', { value: v, text: t })));
  const quantity = input('quantity', '', { type: 'number', min: 0.25, step: 0.25, inputmode: 'decimal' });
  const occurred = input('occurred_on', italyTodayIso(), { type: 'date' });
  const note = textarea('note', '', { rows: 2, maxlength: 1000 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Registra' });
  const form = h('form', { novalidate: true },
    h('p', { class: 'small muted', text: `${match.resource_title} — ${match.holder_name}` }),
    h('div', { class: 'row' },
      field('Quantità', quantity, { required: true, hint: 'Le ore si possono indicare a quarti: 1,5 = un\'ora e mezza' }),
      field('Unità', unit),
      field('Data', occurred, { required: true })),
    field('Nota', note, { hint: 'Cosa è stato fatto, in breve' }),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
  const key = newKey(); // one key per form: a double click or a retry records once
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const amount = Number(String(quantity.value).replace(',', '.'));
    if (!(amount > 0)) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => ({ quantity: 'Indica una quantità maggiore di zero.' }) });
      return;
    }
    try {
      const saved = await busy(submit, () => api('/api/contributions', {
        method: 'POST',
        headers: { 'Idempotency-Key': key },
        body: { match_id: match.id, holder_id: match.holder_id, unit: unit.value, quantity: amount, occurred_on: occurred.value, note: note.value.trim() },
      }), 'Salvataggio…');
      dialog.close();
      await onSaved(saved);
    } catch (error) {
      showFormError(form, error, { quantity: 'Quantità', unit: 'Unità', occurred_on: 'Data', match_id: 'Abbinamento', holder_id: 'Ente', note: 'Nota' });
    }
  });
  const dialog = openDialog('Registra un contributo', form);
  quantity.focus();
  return dialog;
}
