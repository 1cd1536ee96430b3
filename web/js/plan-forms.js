// The plan form and the need form (create and edit), shared by the plan screens.

import { api } from './api.js';
import { h, uid } from './dom.js';
import { AREAS, DAYS } from './i18n.js';
import { NEED_UNITS, PRIORITIES } from './match-bits.js';
import { categorySelect, languageGroup } from './resource-bits.js';
import { busy, checkedValues, field, input, italyTodayIso, select, showFormError, textarea } from './ui.js';

export const PLAN_LABELS = {
  case_code: 'Codice del caso', comune: 'Comune', target_group: 'Destinatari', goals: 'Obiettivi precedenti',
  start_date: 'Inizio', end_date: 'Fine', status: 'Stato', notes: 'Note riservate', owner_id: 'Assistente sociale',
};
export const NEED_LABELS = {
  category_code: 'Categoria', schedule: 'Orari', quantity: 'Quantità', unit: 'Unità', start_date: 'Dal', end_date: 'Al',
  languages: 'Lingue', requirements: 'Requisiti', comune: 'Comune', target_group: 'Destinatari', max_distance_km: 'Distanza massima', priority: 'Priorità', status: 'Stato',
};

function splitList(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** onSaved(plan) after a successful save; current = null to create. */
export function planForm({ current, comuneList, socialWorkers, onSaved, onCancel }) {
  const p = current || { case_code: '', comune: '', target_group: 'anziani', goals: [], start_date: italyTodayIso(), end_date: null, status: 'active', notes: '' };
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: current ? 'Salva il piano' : 'Crea il piano' });
  // Goals are records now (GAS scale, reviews) in «Obiettivi ed esiti»: the old free-text
  // list is only shown, never written, so a save keeps it as it is.
  const legacyGoals = p.goals.length
    ? h('div', { class: 'field' }, h('strong', { text: 'Obiettivi precedenti' }),
      h('ul', null, p.goals.map((g) => h('li', { text: g }))),
      h('p', { class: 'hint', text: 'Scritti prima delle scale GAS: restano in sola lettura. I nuovi obiettivi si fissano nella sezione «Obiettivi ed esiti» del piano.' }))
    : h('div', { class: 'field' }, h('p', { class: 'hint', text: current ? 'Gli obiettivi, con la loro scala GAS, si fissano nella sezione «Obiettivi ed esiti» del piano.' : 'Dopo aver creato il piano, fissa gli obiettivi con la loro scala GAS nella sezione «Obiettivi ed esiti».' }));
  // A plan is closed with its closure (reason and final levels) in «Obiettivi ed esiti», and
  // reopened by undoing it there: the form never offers «Chiuso» nor leaves it.
  const closed = p.status === 'closed';
  const status = closed
    ? field('Stato', input('status_shown', 'Chiuso', { readonly: true }), { hint: 'Per riaprirlo: «Riapri il piano» in «Obiettivi ed esiti».' })
    : field('Stato', select('status', [['draft', 'Bozza'], ['active', 'Attivo'], ['suspended', 'Sospeso']], p.status), { hint: 'Per chiudere il piano: «Chiudi il piano» in «Obiettivi ed esiti».' });
  const form = h('form', { class: 'card', novalidate: true },
    field('Codice del caso', input('case_code', p.case_code, { maxlength: 32, autocomplete: 'off', spellcheck: 'false', placeholder: 'es. ASC-2026-014' }),
      { required: true, hint: 'Un codice pseudonimo. Mai nome, codice fiscale, e-mail o telefono della persona.' }),
    socialWorkers ? field('Assistente sociale titolare', select('owner_id', socialWorkers.map((u) => [u.id, u.username]), p.owner_id || '', { placeholder: 'Scegli…' }), { required: true }) : null,
    h('div', { class: 'row' },
      field('Comune di residenza', select('comune', comuneList.map((c) => [c.istat_code, c.name]), p.comune, { placeholder: 'Scegli il comune…' }), { required: true }),
      field('Destinatari (area)', select('target_group', Object.entries(AREAS), p.target_group), { required: true })),
    legacyGoals,
    h('div', { class: 'row' },
      field('Inizio', input('start_date', p.start_date, { type: 'date' }), { required: true }),
      field('Fine', input('end_date', p.end_date || '', { type: 'date' }), { hint: 'Facoltativa' }),
      status),
    field('Note riservate', textarea('notes', p.notes, { rows: 3, maxlength: 10000 }), { hint: 'Restano nel piano: non compaiono in nessuna esportazione.' }),
    h('div', { class: 'actions' }, submit,
      onCancel ? h('button', { type: 'button', class: 'btn btn-secondary', onclick: onCancel }, 'Annulla') : h('a', { class: 'btn btn-secondary', href: '#/piani' }, 'Annulla')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      case_code: data.get('case_code').trim(),
      comune: data.get('comune'),
      target_group: data.get('target_group'),
      start_date: data.get('start_date'),
      end_date: data.get('end_date') || null,
      notes: data.get('notes'),
    };
    if (!closed) body.status = data.get('status');
    if (socialWorkers && data.get('owner_id')) body.owner_id = data.get('owner_id');
    const missing = {};
    if (body.case_code.length < 3) missing.case_code = 'Scrivi un codice di almeno 3 caratteri.';
    if (!body.comune) missing.comune = 'Scegli il comune.';
    if (!body.start_date) missing.start_date = 'Indica la data di inizio.';
    if (Object.keys(missing).length) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => missing }, PLAN_LABELS);
      return;
    }
    try {
      const saved = await busy(submit, () => (current
        ? api(`/api/plans/${current.id}`, { method: 'PATCH', body })
        : api('/api/plans', { method: 'POST', body })), 'Salvataggio…');
      await onSaved(saved);
    } catch (error) {
      showFormError(form, error, PLAN_LABELS);
    }
  });
  return form;
}

/** The need form; plan gives defaults (comune, period). */
export function needForm({ plan, current, tax, comuneList, onSaved, onCancel }) {
  const n = current || { category_code: '', schedule: [], quantity: 1, unit: 'hours_per_week', start_date: null, end_date: null, languages: [], requirements: [], comune: plan.comune, priority: 3 };
  const rows = h('div', { class: 'stack' });
  function addRow(w = { weekday: 'MO', start: '09:00', end: '11:00' }) {
    const row = h('div', { class: 'row schedule-row', role: 'group', 'aria-label': 'Fascia oraria' },
      field('Giorno', select('weekday', DAYS.map(([code, name]) => [code, name]), w.weekday)),
      field('Dalle', input('start', w.start, { type: 'time', step: 300 })),
      field('Alle', input('end', w.end, { type: 'time', step: 300 })),
      h('button', { type: 'button', class: 'btn btn-danger btn-small', onclick: () => row.remove() }, 'Rimuovi'));
    rows.append(row);
    return row;
  }
  n.schedule.forEach((w) => addRow(w));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: current ? 'Salva il bisogno' : 'Aggiungi il bisogno' });
  const form = h('form', { novalidate: true },
    field('Di cosa c\'è bisogno', categorySelect(tax, n.category_code, { placeholder: 'Scegli una categoria…' }), { required: true }),
    h('div', { class: 'row' },
      field('Quantità', input('quantity', n.quantity, { type: 'number', min: 1, max: 10000, inputmode: 'numeric' }), { required: true }),
      field('Unità', select('unit', Object.entries(NEED_UNITS), n.unit), { required: true }),
      field('Priorità', select('priority', Object.entries(PRIORITIES), n.priority))),
    h('fieldset', { class: 'field', dataset: { field: 'schedule' } },
      h('legend', { text: 'Quando serve' }),
      h('p', { class: 'hint', text: 'Giorni e orari in cui serve l\'aiuto. Nessuna fascia = orario flessibile.' }),
      h('p', { class: 'field-error', hidden: true }),
      rows,
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', style: { marginTop: '.5rem' }, onclick: () => addRow().querySelector('select').focus() }, '+ Aggiungi una fascia oraria')),
    h('div', { class: 'row' },
      field('Comune', select('comune', comuneList.map((c) => [c.istat_code, c.name]), n.comune || '', { placeholder: 'Quello del piano' })),
      field('Destinatari', select('target_group', Object.entries(AREAS), n.target_group || '', { placeholder: 'Quelli del piano' })),
      field('Distanza massima (km)', input('max_distance_km', n.max_distance_km ?? '', { type: 'number', min: 1, max: 200, step: 'any', inputmode: 'decimal' }), { hint: 'In linea d\'aria dalla sede dell\'ente. Vuoto = nessun limite.' }),
      field('Dal', input('start_date', n.start_date || '', { type: 'date' })),
      field('Al', input('end_date', n.end_date || '', { type: 'date' }))),
    languageGroup(n.languages, { legend: 'Lingue richieste', hint: 'Nessuna scelta: qualsiasi lingua' }),
    field('Requisiti', input('requirements', n.requirements.join(', ')), { hint: 'es. minori' }),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: onCancel }, 'Annulla')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      category_code: data.get('category_code'),
      quantity: Number(data.get('quantity')) || 1,
      unit: data.get('unit'),
      priority: Number(data.get('priority')),
      schedule: [...rows.querySelectorAll('.schedule-row')].map((row) => ({
        weekday: row.querySelector('[name=weekday]').value,
        start: row.querySelector('[name=start]').value,
        end: row.querySelector('[name=end]').value,
      })),
      comune: data.get('comune') || null,
      target_group: data.get('target_group') || null,
      max_distance_km: data.get('max_distance_km') ? Number(data.get('max_distance_km')) : null,
      start_date: data.get('start_date') || null,
      end_date: data.get('end_date') || null,
      languages: checkedValues(form, 'languages'),
      requirements: splitList(data.get('requirements')),
    };
    if (!body.category_code) {
      showFormError(form, { message: 'Scegli la categoria del bisogno.', fieldMessages: () => ({ category_code: 'Scegli una categoria.' }) }, NEED_LABELS);
      return;
    }
    try {
      const saved = await busy(submit, () => (current
        ? api(`/api/plans/${plan.id}/needs/${current.id}`, { method: 'PATCH', body })
        : api(`/api/plans/${plan.id}/needs`, { method: 'POST', body })), 'Salvataggio…');
      await onSaved(saved);
    } catch (error) {
      showFormError(form, error, NEED_LABELS);
    }
  });
  return form;
}

export { uid };
