// The ledger as a table, with the actions a person may take on an entry: confirm, correct
// (a new entry replaces it), cancel (with a reason), see the history. Nothing is edited in
// place: the ledger is append-only.

import { api, newKey } from './api.js';
import { h, fill, responsive } from './dom.js';
import { CONTRIBUTION_UNITS, ENTRY_KINDS, VERIFICATION, agree, count, label, unitNoun } from './i18n.js';
import {
  badge, busy, emptyState, errorBox, field, flash, fmt, input, italyTodayIso, loading, openDialog,
  promptDialog, showFormError, textarea,
} from './ui.js';

const TIME_UNITS = new Set(['hours', 'room_hours']);
const KIND = { self_reported: 'warning', qr_verified: 'success', confirmed: 'success' };

export function amountText(entry) {
  const amount = TIME_UNITS.has(entry.unit) ? entry.quantity : Math.round(entry.quantity);
  return `${fmt.number(amount)} ${unitNoun(entry.unit, { contribution: true, n: amount })}${entry.value_cents ? ` (valore ${fmt.euro(entry.value_cents / 100)})` : ''}`;
}

export function verificationBadge(entry) {
  return badge(label(VERIFICATION, entry.verification), KIND[entry.verification] || 'neutral');
}

export function totalsGrid(summary) {
  if (!summary || !summary.totals.length) return null;
  return h('div', { class: 'stat-grid' }, summary.totals.map((t) => h('div', { class: 'stat' },
    h('span', { class: 'value', text: fmt.number(t.verified) }),
    h('span', { class: 'what', text: `${unitNoun(t.unit, { contribution: true, n: t.verified })} ${agree(t.unit, 'verificat', t.verified, { contribution: true })}` }),
    h('span', { class: 'note', text: `${fmt.number(t.self_reported)} da confermare · ${count(t.entries, 'registrazione', 'registrazioni')}${t.verified_value_cents ? ` · ${fmt.euro(t.verified_value_cents / 100)}` : ''}` }))));
}

function forWhat(entry) {
  if (entry.plan_id) return h('a', { href: `#/piani/${entry.plan_id}`, text: 'Piano personalizzato' });
  if (entry.activity_id) return 'Attività di comunità';
  if (entry.resource_id) return h('a', { href: `#/risorse/${entry.resource_id}`, text: 'Risorsa' });
  return 'Attività ordinaria';
}

function correctDialog(entry, onChange) {
  const quantity = input('quantity', entry.quantity, { type: 'number', min: 0.25, step: TIME_UNITS.has(entry.unit) ? 0.25 : 1, inputmode: 'decimal' });
  const occurred = input('occurred_on', entry.occurred_on, { type: 'date' });
  const note = textarea('note', entry.note, { rows: 2, maxlength: 1000 });
  const reason = textarea('reason', '', { rows: 2, maxlength: 500 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Registra la correzione' });
  const form = h('form', { novalidate: true },
    h('p', { class: 'small muted', text: 'La correzione è una nuova registrazione che sostituisce questa: lo storico resta visibile.' }),
    h('div', { class: 'row' }, field(`Quantità (${label(CONTRIBUTION_UNITS, entry.unit)})`, quantity, { required: true }), field('Data', occurred, { required: true })),
    field('Nota', note),
    field('Motivo della correzione', reason, { required: true }),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
  const key = newKey();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      showFormError(form, { message: 'Scrivi il motivo della correzione.', fieldMessages: () => ({ reason: 'Il motivo è obbligatorio.' }) });
      return;
    }
    try {
      await busy(submit, () => api(`/api/contributions/${entry.id}/corrections`, {
        method: 'POST',
        headers: { 'Idempotency-Key': key },
        body: { quantity: Number(quantity.value), occurred_on: occurred.value, note: note.value, reason: reason.value.trim() },
      }));
      dialog.close();
      flash('Correzione registrata.');
      await onChange();
    } catch (error) {
      showFormError(form, error, { quantity: 'Quantità', occurred_on: 'Data', note: 'Nota', reason: 'Motivo' });
    }
  });
  const dialog = openDialog('Correggi il contributo', form);
  quantity.focus();
}

async function historyDialog(entry) {
  const body = h('div', null, loading());
  openDialog('Storia del contributo', body);
  try {
    const versions = await api(`/api/contributions/${entry.id}/history`);
    fill(body, h('ol', { class: 'rules' }, versions.map((v) => h('li', null,
      h('span', { text: `${label(ENTRY_KINDS, v.kind)}: ${amountText(v)} il ${fmt.date(v.occurred_on)}${v.note ? ` — ${v.note}` : ''}` }),
      h('span', { class: 'small muted', text: fmt.dateTime(v.created_at) })))));
  } catch (error) {
    fill(body, errorBox(error));
  }
}

/** page: {items, total}; options.canConfirm(entry), options.canAmend(entry), onChange(). */
export function contributionsTable(page, { onChange, canConfirm = () => true, canAmend = () => true, showVolunteer = true } = {}) {
  if (!page.items.length) {
    return emptyState('Nessun contributo registrato', 'I contributi arrivano dalle presenze con codice QR, dalle dichiarazioni dei volontari e dalle registrazioni degli enti.');
  }
  return h('div', { class: 'table-wrap' }, responsive(h('table', null,
    h('caption', { class: 'sr-only', text: 'Registro dei contributi' }),
    h('thead', null, h('tr', null, ['Data', 'Chi', 'Quanto', 'Per', 'Verifica', 'Azioni'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, page.items.map((entry) => {
      const actions = [];
      if (entry.effective && entry.verification === 'self_reported' && canConfirm(entry)) {
        const confirm = h('button', { type: 'button', class: 'btn btn-success btn-small', 'aria-label': `Conferma ${amountText(entry)} del ${fmt.date(entry.occurred_on)}` }, 'Conferma');
        confirm.addEventListener('click', async () => {
          try {
            await busy(confirm, () => api(`/api/contributions/${entry.id}/confirm`, { method: 'POST', body: {} }));
            flash('Contributo confermato: ora conta nelle statistiche dell\'ambito.');
            await onChange();
          } catch (error) {
            flash(error.message, 'error');
          }
        });
        actions.push(confirm);
      }
      if (entry.effective && entry.kind !== 'cancellation' && canAmend(entry)) {
        actions.push(h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Correggi ${amountText(entry)} del ${fmt.date(entry.occurred_on)}`, onclick: () => correctDialog(entry, onChange) }, 'Correggi'));
        const cancel = h('button', { type: 'button', class: 'btn btn-danger btn-small', 'aria-label': `Annulla ${amountText(entry)} del ${fmt.date(entry.occurred_on)}` }, 'Annulla');
        cancel.addEventListener('click', async () => {
          const reason = await promptDialog('Annullare il contributo?', 'Motivo dell\'annullamento', { confirmText: 'Annulla il contributo' });
          if (reason === null) return;
          try {
            await api(`/api/contributions/${entry.id}/cancellation`, { method: 'POST', headers: { 'Idempotency-Key': newKey() }, body: { reason } });
            flash('Contributo annullato: non conta più nei totali, ma resta nello storico.');
            await onChange();
          } catch (error) {
            flash(error.message, 'error');
          }
        });
        actions.push(cancel);
      }
      if (entry.kind !== 'entry' || entry.superseded_by) {
        actions.push(h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => historyDialog(entry) }, 'Storia'));
      }
      return h('tr', null,
        h('td', { text: fmt.date(entry.occurred_on) }),
        h('td', null, h('a', { href: `#/enti/${entry.holder_id}`, text: entry.holder_name }), showVolunteer && entry.volunteer_username ? h('div', { class: 'small muted', text: entry.volunteer_username }) : null),
        h('td', null, amountText(entry), entry.kind !== 'entry' ? h('div', { class: 'small muted', text: label(ENTRY_KINDS, entry.kind) }) : null),
        h('td', null, forWhat(entry), entry.note ? h('div', { class: 'small muted', text: entry.note }) : null),
        h('td', null, verificationBadge(entry), entry.confirmation ? h('div', { class: 'small muted', text: `da ${entry.confirmation.confirmed_by_username}` }) : null),
        h('td', null, h('div', { class: 'actions' }, actions)));
    })))));
}

/** A form to record a contribution. holders: list for the holder select (null: own holder). */
export function recordForm({ holders, resources, activities, volunteerMode = false, onSaved, onCancel }) {
  const unit = h('select', { name: 'unit' }, Object.entries(CONTRIBUTION_UNITS).filter(([k]) => !volunteerMode || k === 'hours' || k === 'trips').map(([v, t]) => h('option', { value: v, text: t })));
  const quantity = input('quantity', '', { type: 'number', min: 0.25, step: 0.25, inputmode: 'decimal' });
  const occurred = input('occurred_on', italyTodayIso(), { type: 'date' });
  const value = input('value_euro', '', { type: 'number', min: 0, step: 1, inputmode: 'decimal' });
  const valueField = field('Valore dichiarato (euro)', value, { hint: 'Solo per beni e spazi: il valore equo di quanto donato' });
  const sync = () => {
    valueField.hidden = !['items', 'room_hours', 'meals'].includes(unit.value);
    quantity.step = TIME_UNITS.has(unit.value) ? '0.25' : '1';
  };
  unit.addEventListener('change', sync);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: volunteerMode ? 'Dichiara le ore' : 'Registra' });
  const form = h('form', { novalidate: true },
    holders ? field('Ente', h('select', { name: 'holder_id' }, h('option', { value: '', text: 'Scegli l\'ente…' }), holders.map((x) => h('option', { value: x.id, text: x.name }))), { required: true, hint: volunteerMode ? 'Con chi hai fatto volontariato' : undefined }) : null,
    h('div', { class: 'row' },
      field('Quantità', quantity, { required: true, hint: 'Le ore si possono indicare a quarti: 1,5 = un\'ora e mezza' }),
      field('Unità', unit),
      field('Data', occurred, { required: true })),
    valueField,
    resources && resources.length ? field('Risorsa', h('select', { name: 'resource_id' }, h('option', { value: '', text: '—' }), resources.map((r) => h('option', { value: r.id, text: r.title })))) : null,
    activities && activities.length ? field('Attività di comunità', h('select', { name: 'activity_id' }, h('option', { value: '', text: '—' }), activities.map((a) => h('option', { value: a.id, text: `${a.title} (${fmt.date(a.starts_on)})` })))) : null,
    field('Nota', textarea('note', '', { rows: 2, maxlength: 1000 }), { hint: 'Cosa è stato fatto, in breve' }),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: onCancel }, 'Annulla')));
  sync();
  const key = newKey(); // one key per form: a double click or a retry records once
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      unit: data.get('unit'),
      quantity: Number(String(data.get('quantity')).replace(',', '.')),
      occurred_on: data.get('occurred_on'),
      note: data.get('note').trim(),
    };
    if (holders) body.holder_id = data.get('holder_id') || null;
    if (data.get('resource_id')) body.resource_id = data.get('resource_id');
    if (data.get('activity_id')) body.activity_id = data.get('activity_id');
    if (!valueField.hidden && data.get('value_euro')) body.value_cents = Math.round(Number(data.get('value_euro')) * 100);
    const missing = {};
    if (!(body.quantity > 0)) missing.quantity = 'Indica una quantità maggiore di zero.';
    if (holders && !body.holder_id) missing.holder_id = 'Scegli l\'ente.';
    if (Object.keys(missing).length) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => missing });
      return;
    }
    try {
      const saved = await busy(submit, () => api('/api/contributions', { method: 'POST', headers: { 'Idempotency-Key': key }, body }), 'Salvataggio…');
      await onSaved(saved);
    } catch (error) {
      showFormError(form, error, { quantity: 'Quantità', unit: 'Unità', occurred_on: 'Data', holder_id: 'Ente', value_cents: 'Valore', note: 'Nota' });
    }
  });
  return form;
}
