// What changes for the person (issue 15), in the plan screen: goals with their Goal
// Attainment Scale, reviews, closure, the person's own resources, activation, and how much of
// the support rests on the person, the community and funded services. Also the pieces the
// printable plan (plan-print.js) shows. Only the social workers of the plan write here; the
// UdP reads. Review notes are private: shown only in a review's own detail, never printed.

import { api, apiAll } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import {
  ACTIVATION_KINDS, CLOSURE_REASONS, GAS_LEVELS, OWN_RESOURCE_KINDS, OWN_RESOURCE_SOURCES,
  PARTICIPANT_ROLES, formatNumber, gasLevel, label,
} from '../js/i18n.js';
import {
  badge, busy, checkboxGroup, checkedValues, confirmDialog, emptyState, errorBox, field, flash,
  fmt, input, italyTodayIso, loading, openDialog, optional, select, showFormError, textarea,
} from '../js/ui.js';

const LEVELS = [-2, -1, 0, 1, 2];
const RHO = 0.3;

/** GAS T-score (Kiresuk & Sherman), the server's formula: for the form's live preview. */
export function tScore(pairs) {
  const total = pairs.reduce((sum, [, w]) => sum + w, 0);
  if (!pairs.length || !total) return null;
  const numerator = pairs.reduce((sum, [x, w]) => sum + w * x, 0);
  return 50 + (10 * numerator) / Math.sqrt((1 - RHO) * pairs.reduce((sum, [, w]) => sum + w * w, 0) + RHO * total * total);
}

export function tText(value) {
  return value === null || value === undefined ? '—' : formatNumber(value, 1);
}

function hoursText(minutes) {
  return `${formatNumber(minutes / 60)} ${minutes === 60 ? 'ora' : 'ore'}`;
}

const base = (planId) => `/api/plans/${planId}`;

/** Everything about the plan's outcomes, or null on a server without them (404). */
export async function loadOutcomes(planId) {
  const summary = await optional(api(`${base(planId)}/outcomes`));
  if (!summary) return null;
  const [reviews, ownResources, activations] = await Promise.all([
    api(`${base(planId)}/reviews`),
    api(`${base(planId)}/own-resources`),
    api(`${base(planId)}/activations`),
  ]);
  // The server's split (the figures of the UdP count the same way): minutes from the plan's
  // start to today or its closure.
  const split = { person: summary.own.own_minutes, community: summary.own.community_minutes, funded: summary.own.funded_minutes };
  return { ...summary, nextReviewOn: summary.next_review_on, reviewList: reviews, ownResources, activationList: activations, split };
}

/** The three shares as a bar and a list (the list carries the figures for screen readers). */
function splitView(split) {
  const parts = [
    ['person', 'Persona e famiglia', split.person],
    ['community', 'Comunità', split.community],
    ['funded', 'Servizi finanziati', split.funded],
  ];
  const total = parts.reduce((sum, [, , v]) => sum + v, 0);
  if (!total) return h('p', { class: 'muted', text: 'Ancora nessuna ora registrata: né risorse proprie, né contributi della comunità, né interventi finanziati per questo piano.' });
  return h('div', { class: 'support-split' },
    h('div', { class: 'split-bar', 'aria-hidden': 'true' }, parts.filter(([, , v]) => v).map(([key, , v]) => h('span', { class: `split-${key}`, style: { width: `${(100 * v) / total}%` } }))),
    h('ul', { class: 'split-legend' }, parts.map(([key, name, v]) => h('li', null,
      h('span', { class: `swatch split-${key}`, 'aria-hidden': 'true' }),
      `${name}: ${hoursText(v)} (${formatNumber(Math.round((100 * v) / total))}%)`))),
    h('p', { class: 'small muted', text: 'Ore dall\'avvio del piano a oggi (o alla chiusura). Persona e famiglia: le loro risorse, per il tempo in cui valgono. Comunità: le ore registrate per il piano. Servizi finanziati: gli interventi che citano il piano, divisi tra i piani che citano.' }));
}

// --- pieces for the printable plan ------------------------------------------------------------

function scaleTable(goal, { caption } = {}) {
  return h('table', { class: 'gas-scale' },
    caption ? h('caption', { class: 'sr-only', text: caption }) : null,
    h('thead', null, h('tr', null, ['Livello', 'Descrizione', 'Quando'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, [...LEVELS].reverse().map((level) => {
      const marks = [];
      if (level === goal.baseline) marks.push('partenza');
      if (goal.latest_level === level) marks.push('ultima verifica');
      return h('tr', { class: marks.length ? 'marked' : null },
        h('th', { scope: 'row', text: `${gasLevel(level)} ${GAS_LEVELS[level]}` }),
        h('td', { text: goal.scale[level + 2] || '—' }),
        h('td', { class: 'small', text: marks.join(', ') }));
    })));
}

export function printGoals(outcomes) {
  const goals = outcomes.goals.filter((g) => g.status === 'active');
  return h('div', null,
    h('p', { class: 'small', text: `Ogni obiettivo ha cinque livelli, da −2 (molto meno del previsto) a +2 (molto più del previsto); 0 è il risultato atteso. Punteggio T complessivo: ${tText(outcomes.baseline_t_score)} alla partenza, ${tText(outcomes.current_t_score)} ora (50 = obiettivi raggiunti come previsto).` }),
    goals.map((goal, i) => h('div', { class: 'print-goal' },
      h('h3', { text: `${i + 1}. ${goal.title}${goal.weight !== 1 ? ` (peso ${goal.weight})` : ''}` }),
      scaleTable(goal, { caption: `Scala dell'obiettivo ${i + 1}` }))));
}

export function printOwnResources(outcomes) {
  if (!outcomes.ownResources.length) return h('p', { text: 'Nessuna risorsa propria registrata.' });
  return h('ul', null, outcomes.ownResources.map((r) => h('li', { text: ownText(r) })));
}

export function printSplit(outcomes) {
  return h('div', null, h('h3', { text: 'Chi sostiene il piano' }), splitView(outcomes.split));
}

function ownText(r) {
  return `${label(OWN_RESOURCE_KINDS, r.kind)} · ${label(OWN_RESOURCE_SOURCES, r.source)}: ${r.description}${r.minutes_per_week ? ` — ${hoursText(r.minutes_per_week)} a settimana` : ''}`;
}

// --- forms ----------------------------------------------------------------------------------

function levelSelect(name, goal, value, { placeholder } = {}) {
  return select(name, [...LEVELS].reverse().map((level) => [level, `${gasLevel(level)} ${goal.scale[level + 2] || GAS_LEVELS[level]}`]), value, { placeholder });
}

function goalDialog(planId, needs, current, onSaved) {
  const title = textarea('title', current?.title ?? '', { rows: 2, maxlength: 500 });
  const levels = LEVELS.map((level) => textarea(`scale_${level + 2}`, current?.scale[level + 2] ?? '', { rows: 1, maxlength: 500 }));
  const weight = input('weight', current?.weight ?? 1, { type: 'number', min: 1, max: 100, step: 1, inputmode: 'numeric' });
  const baseline = select('baseline', [...LEVELS].reverse().map((level) => [level, `${gasLevel(level)} ${GAS_LEVELS[level]}`]), current?.baseline ?? -1);
  const need = needs.length ? select('need_id', needs.map((n) => [n.id, n.label]), current?.need_id ?? '', { placeholder: 'Nessuno in particolare' }) : null;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: current ? 'Salva l\'obiettivo' : 'Aggiungi l\'obiettivo' });
  const form = h('form', { novalidate: true, class: 'goal-form' },
    field('Obiettivo', title, { required: true, hint: 'Che cosa deve cambiare, in parole semplici, condivise con la persona' }),
    h('fieldset', { class: 'field', dataset: { field: 'scale' } },
      h('legend', { text: 'Scala dei risultati (Goal Attainment Scaling)' }),
      h('p', { class: 'hint', text: 'Descrivi ogni livello in modo che, alla verifica, sia chiaro quale è stato raggiunto.' }),
      h('p', { class: 'field-error', hidden: true }),
      [...LEVELS].reverse().map((level) => field(`${gasLevel(level)} ${GAS_LEVELS[level]}`, levels[level + 2], { required: true }))),
    h('div', { class: 'row' },
      field('Livello di partenza', baseline, { hint: 'Di solito −1 o −2' }),
      field('Peso', weight, { hint: '1 se gli obiettivi contano allo stesso modo' })),
    need ? field('Bisogno collegato', need) : null,
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const missing = {};
    if (!title.value.trim()) missing.title = 'Scrivi l\'obiettivo.';
    if (levels.some((el) => !el.value.trim())) missing.scale = 'Descrivi tutti e cinque i livelli.';
    if (Object.keys(missing).length) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => missing });
      return;
    }
    const body = {
      title: title.value.trim(),
      scale: levels.map((el) => el.value.trim()),
      weight: Number(weight.value) || 1,
      baseline: Number(baseline.value),
    };
    if (need) body.need_id = need.value || null;
    try {
      await busy(submit, () => api(current ? `${base(planId)}/goals/${current.id}` : `${base(planId)}/goals`, { method: current ? 'PATCH' : 'POST', body }));
      dialog.close();
      await onSaved();
    } catch (error) {
      showFormError(form, error, { title: 'Obiettivo', scale: 'Scala', weight: 'Peso', baseline: 'Livello di partenza', need_id: 'Bisogno collegato' });
    }
  });
  const dialog = openDialog(current ? 'Modifica l\'obiettivo' : 'Nuovo obiettivo', form, { wide: true });
  title.focus();
}

/** The levels of each active goal, with the T-score they give, updated as levels are chosen. */
function levelsFieldset(goals, legend, given = {}) {
  const selects = goals.map((goal) => levelSelect(`level_${goal.id}`, goal, given[goal.id] ?? goal.latest_level ?? goal.baseline));
  const preview = h('p', { class: 't-preview', role: 'status' });
  const update = () => {
    const t = tScore(goals.map((goal, i) => [Number(selects[i].value), goal.weight]));
    preview.textContent = `Punteggio T con questi livelli: ${tText(t)} (50 = come previsto)`;
  };
  selects.forEach((el) => el.addEventListener('change', update));
  update();
  const box = h('fieldset', { class: 'field', dataset: { field: 'levels' } },
    h('legend', { text: legend }),
    h('p', { class: 'field-error', hidden: true }),
    goals.map((goal, i) => field(goal.title, selects[i], { hint: `Partenza: ${gasLevel(goal.baseline)}${goal.latest_level !== null && goal.latest_level !== undefined ? ` · ultima verifica: ${gasLevel(goal.latest_level)}` : ''}` })),
    preview);
  return { box, values: () => goals.map((goal, i) => ({ goal_id: goal.id, level: Number(selects[i].value) })) };
}

/** A new review, or the correction of `current` (a review with its notes; its date stays). */
function reviewDialog(planId, goals, nextDue, onSaved, current = null) {
  const held = input('held_on', current?.held_on ?? italyTodayIso(), { type: 'date', disabled: Boolean(current) });
  const participants = checkboxGroup('Chi ha partecipato', 'participants', Object.entries(PARTICIPANT_ROLES), current?.participants ?? ['person', 'social_worker'], { columns: true, hint: 'Per ruolo, mai per nome' });
  const given = Object.fromEntries((current?.levels ?? []).map((l) => [l.goal_id, l.level]));
  const levels = levelsFieldset(goals, 'Livello raggiunto per ogni obiettivo', given);
  const changes = textarea('changes', current?.changes ?? '', { rows: 3, maxlength: 5000 });
  const notes = textarea('notes', current?.notes ?? '', { rows: 3, maxlength: 10000 });
  const next = input('next_review_on', current?.next_review_on ?? '', { type: 'date' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: current ? 'Salva la correzione' : 'Registra la verifica' });
  const form = h('form', { novalidate: true },
    nextDue ? h('p', { class: 'small muted', text: `Verifica prevista per il ${fmt.date(nextDue)}.` }) : null,
    field('Data della verifica', held, { required: true }),
    participants,
    goals.length ? levels.box : h('p', { class: 'muted', text: 'Il piano non ha ancora obiettivi: la verifica registra partecipanti e cambiamenti.' }),
    field('Cosa cambia nel piano', changes),
    field('Note riservate', notes, { hint: 'Visibili solo a chi segue il piano, mai stampate né esportate' }),
    field('Prossima verifica', next, { hint: 'Riceverai un avviso se la data passa senza verifica' }),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const roles = checkedValues(form, 'participants');
    if (!roles.length || !held.value) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => ({ ...(roles.length ? {} : { participants: 'Indica almeno un partecipante.' }), ...(held.value ? {} : { held_on: 'Indica la data.' }) }) });
      return;
    }
    const body = { held_on: held.value, participants: roles, levels: goals.length ? levels.values() : [], changes: changes.value.trim(), notes: notes.value.trim(), next_review_on: next.value || null };
    if (current) delete body.held_on;
    try {
      const saved = await busy(submit, () => api(current ? `${base(planId)}/reviews/${current.id}` : `${base(planId)}/reviews`, { method: current ? 'PATCH' : 'POST', body }));
      dialog.close();
      await onSaved(saved);
    } catch (error) {
      showFormError(form, error, { held_on: 'Data della verifica', participants: 'Partecipanti', levels: 'Livelli', changes: 'Cosa cambia', notes: 'Note riservate', next_review_on: 'Prossima verifica' });
    }
  });
  const dialog = openDialog(current ? `Correggi la verifica del ${fmt.date(current.held_on)}` : 'Registra una verifica', form, { wide: true });
  (current ? participants.querySelector('input') : held).focus();
}

function closureDialog(planId, goals, onSaved) {
  const closed = input('closed_on', italyTodayIso(), { type: 'date' });
  const reason = select('reason', Object.entries(CLOSURE_REASONS), '', { placeholder: 'Scegli il motivo…' });
  const levels = levelsFieldset(goals, 'Livello finale di ogni obiettivo');
  const participants = checkboxGroup('Chi ha partecipato', 'participants', Object.entries(PARTICIPANT_ROLES), [], { columns: true });
  const note = textarea('note', '', { rows: 2, maxlength: 10000 });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger', text: 'Chiudi il piano' });
  const form = h('form', { novalidate: true },
    h('p', { class: 'small muted', text: 'Un piano chiuso resta consultabile ma non si modifica più. Gli abbinamenti ancora aperti finiscono con la chiusura: quelli in corso come conclusi, le proposte non ancora avviate come ritirate; gli enti ne ricevono notizia, senza il motivo.' }),
    h('div', { class: 'row' }, field('Data di chiusura', closed, { required: true }), field('Motivo', reason, { required: true })),
    goals.length ? levels.box : null,
    participants,
    field('Nota', note),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!reason.value || !closed.value) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => ({ ...(reason.value ? {} : { reason: 'Scegli il motivo della chiusura.' }), ...(closed.value ? {} : { closed_on: 'Indica la data.' }) }) });
      return;
    }
    const body = { closed_on: closed.value, reason: reason.value, levels: goals.length ? levels.values() : [], participants: checkedValues(form, 'participants'), note: note.value.trim() };
    try {
      const saved = await busy(submit, () => api(`${base(planId)}/closure`, { method: 'POST', body }));
      dialog.close();
      await onSaved(saved);
    } catch (error) {
      showFormError(form, error, { closed_on: 'Data di chiusura', reason: 'Motivo', levels: 'Livelli finali', participants: 'Partecipanti', note: 'Nota' });
    }
  });
  const dialog = openDialog('Chiudi il piano', form, { wide: true });
  closed.focus();
}

function ownResourceDialog(planId, onSaved) {
  const kind = select('kind', Object.entries(OWN_RESOURCE_KINDS), 'time');
  const source = select('source', Object.entries(OWN_RESOURCE_SOURCES), 'person');
  const description = textarea('description', '', { rows: 2, maxlength: 1000 });
  const hours = input('minutes_per_week', '', { type: 'number', min: 0, max: 168, step: 0.5, inputmode: 'decimal' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiungi' });
  const form = h('form', { novalidate: true },
    h('div', { class: 'row' }, field('Tipo', kind), field('Chi la mette', source)),
    field('Descrizione', description, { required: true, hint: 'Ad esempio: «la figlia accompagna alle visite il sabato»' }),
    field('Ore a settimana', hours, { hint: 'Lascia vuoto se non si misura in tempo (ad esempio un\'auto a disposizione)' }),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!description.value.trim()) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => ({ description: 'Descrivi la risorsa.' }) });
      return;
    }
    const minutes = Math.round(Number(String(hours.value || '0').replace(',', '.')) * 60);
    try {
      await busy(submit, () => api(`${base(planId)}/own-resources`, { method: 'POST', body: { kind: kind.value, source: source.value, description: description.value.trim(), minutes_per_week: minutes } }));
      dialog.close();
      await onSaved();
    } catch (error) {
      showFormError(form, error, { kind: 'Tipo', source: 'Chi la mette', description: 'Descrizione', minutes_per_week: 'Ore a settimana' });
    }
  });
  const dialog = openDialog('Una risorsa della persona o della famiglia', form);
  kind.focus();
}

async function activationDialog(planId, onSaved) {
  const [holders, activities] = await Promise.all([
    apiAll('/api/holders').catch(() => []),
    api('/api/activities', { query: { limit: 100 } }).then((p) => p.items || p).catch(() => []),
  ]);
  const kind = select('kind', Object.entries(ACTIVATION_KINDS), 'volunteer');
  const holder = select('holder_id', holders.map((x) => [x.id, x.name]), '', { placeholder: 'Scegli l\'ente…' });
  const activity = select('activity_id', activities.map((a) => [a.id, `${a.title} (${fmt.date(a.starts_on)})`]), '', { placeholder: 'Scegli l\'attività…' });
  const holderField = field('Con quale ente', holder);
  const activityField = field('Quale attività', activity);
  const consent = input('consent_on', italyTodayIso(), { type: 'date' });
  const started = input('started_on', italyTodayIso(), { type: 'date' });
  const sync = () => { holderField.hidden = kind.value !== 'volunteer'; activityField.hidden = kind.value !== 'activity'; };
  kind.addEventListener('change', sync);
  sync();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Registra' });
  const form = h('form', { novalidate: true },
    h('p', { class: 'small muted', text: 'Dalla persona aiutata alla persona che aiuta. L\'ente non vede nulla del piano: il collegamento resta qui.' }),
    field('Che cosa', kind), holderField, activityField,
    h('div', { class: 'row' },
      field('Consenso raccolto il', consent, { required: true }),
      field('Dal', started, { required: true })),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const missing = {};
    if (kind.value === 'volunteer' && !holder.value) missing.holder_id = 'Scegli l\'ente con cui fa volontariato.';
    if (kind.value === 'activity' && !activity.value) missing.activity_id = 'Scegli l\'attività.';
    if (Object.keys(missing).length) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => missing });
      return;
    }
    const body = { kind: kind.value, consent_on: consent.value, started_on: started.value };
    if (kind.value === 'volunteer' && holder.value) body.holder_id = holder.value;
    if (kind.value === 'activity' && activity.value) body.activity_id = activity.value;
    try {
      await busy(submit, () => api(`${base(planId)}/activations`, { method: 'POST', body }));
      dialog.close();
      await onSaved();
    } catch (error) {
      showFormError(form, error, { kind: 'Che cosa', holder_id: 'Ente', activity_id: 'Attività', consent_on: 'Consenso', started_on: 'Dal', volunteer_id: 'Volontario' });
    }
  });
  const dialog = openDialog('Da beneficiario a contributore', form);
  kind.focus();
}

function nextReviewDialog(planId, current, onSaved) {
  const date = input('next_review_on', current || '', { type: 'date' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Salva' });
  const form = h('form', { novalidate: true },
    field('Prossima verifica', date, { hint: 'Lascia vuoto per non fissarla; riceverai un avviso se la data passa senza verifica' }),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await busy(submit, () => api(`${base(planId)}/next-review`, { method: 'PUT', body: { next_review_on: date.value || null } }));
      dialog.close();
      await onSaved();
    } catch (error) {
      showFormError(form, error, { next_review_on: 'Prossima verifica' });
    }
  });
  const dialog = openDialog('Data della prossima verifica', form);
  date.focus();
}

async function reviewDetail(planId, review, goals, onCorrected) {
  const body = h('div', null, loading());
  const dialog = openDialog(`Verifica del ${fmt.date(review.held_on)}`, body, { wide: true });
  try {
    const full = await api(`${base(planId)}/reviews/${review.id}`);
    const byGoal = Object.fromEntries(goals.map((g) => [g.id, g]));
    fill(body, h('dl', { class: 'facts' },
      h('dt', { text: 'Partecipanti' }), h('dd', { text: full.participants.map((p) => label(PARTICIPANT_ROLES, p)).join(', ') }),
      h('dt', { text: 'Punteggio T' }), h('dd', { text: tText(full.t_score) }),
      full.levels.length ? [h('dt', { text: 'Livelli' }), h('dd', null, h('ul', null, full.levels.map((l) => h('li', { text: `${byGoal[l.goal_id]?.title ?? 'Obiettivo'}: ${gasLevel(l.level)} ${GAS_LEVELS[l.level]}` }))))] : null,
      h('dt', { text: 'Cosa cambia' }), h('dd', { text: full.changes || '—' }),
      h('dt', { text: 'Note riservate' }), h('dd', { text: full.notes || '—' }),
      h('dt', { text: 'Prossima verifica' }), h('dd', { text: full.next_review_on ? fmt.date(full.next_review_on) : '—' }),
      h('dt', { text: 'Registrata da' }), h('dd', { text: `${full.created_by_username}, ${fmt.dateTime(full.created_at)}` })),
    onCorrected && full.kind === 'review' ? h('div', { class: 'actions' }, h('button', {
      type: 'button', class: 'btn btn-secondary',
      onclick: () => {
        dialog.close();
        // Only the goals it rated or still followed: a dropped goal keeps its old level.
        const rated = new Set(full.levels.map((l) => l.goal_id));
        reviewDialog(planId, goals.filter((g) => g.status === 'active' || rated.has(g.id)), null, onCorrected, full);
      },
    }, 'Correggi')) : null);
  } catch (error) {
    fill(body, errorBox(error));
  }
}

// --- the section of the plan screen -----------------------------------------------------------

/**
 * Fills `box` with the plan's outcomes. ctx: { plan, needs: [{id, label}], canWrite,
 * onPlanChanged() } — the plan screen redraws its summary when the plan is closed.
 */
export async function drawOutcomes(box, ctx) {
  const { plan } = ctx;
  fill(box, loading('Caricamento di obiettivi e verifiche…'));
  let data;
  try {
    data = await loadOutcomes(plan.id);
  } catch (error) {
    fill(box, errorBox(error, { retry: () => drawOutcomes(box, ctx) }));
    return;
  }
  if (!data) { fill(box); return; }
  const closed = Boolean(data.closure) || plan.status === 'closed';
  const write = ctx.canWrite && !closed;
  const goals = data.goals.filter((g) => g.status === 'active');
  const reload = async (message) => { if (message) flash(message); await drawOutcomes(box, ctx); };
  const button = (text, onclick, kind = 'btn-secondary') => h('button', { type: 'button', class: `btn ${kind} btn-small`, onclick }, text);

  const head = h('div', { class: 'outcome-head' },
    h('div', { class: 'stat' },
      h('span', { class: 'value', text: tText(data.current_t_score) }),
      h('span', { class: 'what', text: 'Punteggio T (GAS)' }),
      h('span', { class: 'note', text: data.current_t_score === null ? 'Nessun obiettivo attivo' : `Alla partenza ${tText(data.baseline_t_score)} · 50 = come previsto` })),
    h('div', { class: 'stat' },
      h('span', { class: 'value', text: data.next_review_on ? fmt.date(data.next_review_on) : '—' }),
      h('span', { class: 'what', text: 'Prossima verifica' }),
      h('span', { class: 'note' }, data.review_overdue ? badge('In ritardo', 'danger') : `${data.reviews} ${data.reviews === 1 ? 'verifica' : 'verifiche'}${data.last_review_on ? `, l'ultima il ${fmt.date(data.last_review_on)}` : ''}`),
      write ? h('button', { type: 'button', class: 'link-button', onclick: () => nextReviewDialog(plan.id, data.next_review_on, () => reload('Data della prossima verifica aggiornata.')) }, data.next_review_on ? 'Sposta la data' : 'Fissa la data') : null));

  const goalsList = goals.length ? h('ol', { class: 'cards goals' }, goals.map((goal, i) => h('li', { class: 'item-card' },
    h('div', { class: 'item-head' },
      h('h4', { text: `${i + 1}. ${goal.title}` }),
      h('span', { class: 'actions' },
        badge(goal.latest_level === null || goal.latest_level === undefined ? `Partenza ${gasLevel(goal.baseline)}` : `Livello attuale ${gasLevel(goal.latest_level)} (partenza ${gasLevel(goal.baseline)})`, goal.latest_level > goal.baseline ? 'success' : 'neutral'),
        goal.weight !== 1 ? badge(`Peso ${goal.weight}`) : null)),
    h('details', null, h('summary', { text: 'Scala dei risultati' }), scaleTable(goal, { caption: `Scala dell'obiettivo ${i + 1}` })),
    write ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Modifica l'obiettivo ${i + 1}`, onclick: () => goalDialog(plan.id, ctx.needs, goal, () => reload('Obiettivo aggiornato.')) }, 'Modifica'),
      h('button', {
        type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Non seguire più l'obiettivo ${i + 1}`,
        onclick: async () => {
          if (!await confirmDialog('Non seguire più l\'obiettivo?', 'L\'obiettivo resta nello storico con i suoi livelli, ma non conta più nel punteggio T.', { confirmText: 'Non seguire più' })) return;
          try {
            await api(`${base(plan.id)}/goals/${goal.id}`, { method: 'PATCH', body: { status: 'dropped' } });
            await reload('Obiettivo non più seguito.');
          } catch (error) { flash(error.message, 'error'); }
        },
      }, 'Non seguire più')) : null)))
    : emptyState('Nessun obiettivo', write ? 'Fissa gli obiettivi con la persona: per ognuno descrivi cinque livelli, dal peggiore al migliore, per vedere alle verifiche quanto è cambiato.' : 'Il piano non ha obiettivi registrati.');

  const reviews = data.reviewList;
  const reviewsList = reviews.length ? h('div', { class: 'table-wrap' }, responsive(h('table', null,
    h('caption', { class: 'sr-only', text: 'Verifiche del piano' }),
    h('thead', null, h('tr', null, ['Data', 'Chi ha partecipato', 'Punteggio T', 'Cosa cambia', 'Azioni'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, [...reviews].sort((a, b) => (a.held_on < b.held_on ? 1 : -1)).map((r) => h('tr', null,
      h('td', null, fmt.date(r.held_on), r.kind === 'closure' ? h('div', { class: 'small muted', text: 'Chiusura' }) : r.on_time === false ? h('div', null, badge('Oltre la data prevista', 'warning')) : null),
      h('td', { text: r.participants.map((p) => label(PARTICIPANT_ROLES, p)).join(', ') || '—' }),
      h('td', { class: 'num', text: tText(r.t_score) }),
      h('td', { text: r.changes || '—' }),
      h('td', null, h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Dettagli della verifica del ${fmt.date(r.held_on)}`, onclick: () => reviewDetail(plan.id, r, data.goals, write ? () => reload('Verifica corretta.') : null) }, 'Dettagli'))))))))
    : h('p', { class: 'muted', text: 'Nessuna verifica ancora.' });

  const closure = data.closure ? h('div', { class: 'notice notice-success closure-notice' },
    h('strong', { text: `Piano chiuso il ${fmt.date(data.closure.closed_on)}: ${data.closure.reason_label || label(CLOSURE_REASONS, data.closure.reason)}.` }),
    data.closure.t_score !== null ? ` Punteggio T finale: ${tText(data.closure.t_score)}.` : null,
    data.closure.note ? h('div', { class: 'small', text: data.closure.note }) : null,
    ctx.canWrite ? h('button', {
      type: 'button', class: 'btn btn-secondary btn-small',
      onclick: async () => {
        if (!await confirmDialog('Riaprire il piano?', 'Da usare se il piano è stato chiuso per errore: la chiusura e i suoi livelli finali vengono tolti.', { confirmText: 'Riapri il piano' })) return;
        try {
          await api(`${base(plan.id)}/closure`, { method: 'DELETE' });
          await ctx.onPlanChanged();
          await reload('Piano riaperto.');
        } catch (error) { flash(error.message, 'error'); }
      },
    }, 'Riapri il piano') : null) : null;

  // A plan closed by a status change, before closures were recorded: no reason, no final
  // levels. It is reopened here (the plan's form no longer changes a closed status), then
  // closed again with its closure.
  const legacyClosure = !data.closure && plan.status === 'closed' ? h('div', { class: 'notice closure-notice' },
    h('strong', { text: 'Piano chiuso senza motivo né livelli finali' }),
    ' (chiuso prima che si registrassero le chiusure). Per registrarli, riaprilo e chiudilo con «Chiudi il piano».',
    ctx.canWrite ? h('div', null, h('button', {
      type: 'button', class: 'btn btn-secondary btn-small',
      onclick: async () => {
        try {
          await api(`/api/plans/${plan.id}`, { method: 'PATCH', body: { status: 'active' } });
          await ctx.onPlanChanged();
          await reload('Piano riaperto.');
        } catch (error) { flash(error.message, 'error'); }
      },
    }, 'Riapri il piano')) : null) : null;

  const own = h('div', null,
    data.ownResources.length ? h('ul', { class: 'rules' }, data.ownResources.map((r) => h('li', null,
      h('span', { text: ownText(r) }),
      write ? h('button', {
        type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Togli «${r.description}»`,
        onclick: async () => {
          try {
            await api(`${base(plan.id)}/own-resources/${r.id}`, { method: 'DELETE' });
            await reload('Risorsa tolta.');
          } catch (error) { flash(error.message, 'error'); }
        },
      }, 'Togli') : null))) : h('p', { class: 'muted', text: 'Nessuna risorsa propria registrata: tempo, competenze, relazioni e mezzi che la persona e la famiglia mettono nel piano.' }));

  const activations = data.activationList.length ? h('ul', { class: 'rules' }, data.activationList.map((a) => {
    const text = `${label(ACTIVATION_KINDS, a.kind)}${a.holder_name ? ` con ${a.holder_name}` : ''}${a.activity_title ? `: ${a.activity_title}` : ''}, dal ${fmt.date(a.started_on)} (consenso del ${fmt.date(a.consent_on)})`;
    return h('li', null, h('span', { text }), write ? h('button', {
      type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Togli l'attivazione: ${text}`,
      onclick: async () => {
        if (!await confirmDialog('Togliere l\'attivazione?', 'Ad esempio se il consenso è stato ritirato.', { confirmText: 'Togli' })) return;
        try {
          await api(`${base(plan.id)}/activations/${a.id}`, { method: 'DELETE' });
          await reload('Attivazione tolta.');
        } catch (error) { flash(error.message, 'error'); }
      },
    }, 'Togli') : null);
  })) : h('p', { class: 'muted', text: 'Nessuna attivazione: quando la persona diventa volontaria o partecipa a un\'attività della comunità, registralo qui.' });

  fill(box, h('section', { class: 'outcomes', 'aria-labelledby': 'outcomes-title' },
    h('div', { class: 'item-head' }, h('h2', { id: 'outcomes-title', text: 'Obiettivi ed esiti' }),
      write ? h('div', { class: 'actions' },
        button('+ Aggiungi un obiettivo', () => goalDialog(plan.id, ctx.needs, null, () => reload('Obiettivo aggiunto.'))),
        button('Registra una verifica', () => reviewDialog(plan.id, goals, data.next_review_on, (saved) => reload(`Verifica registrata. Punteggio T: ${tText(saved.t_score)}.`)), 'btn-primary'),
        button('Chiudi il piano', () => closureDialog(plan.id, goals, async (saved) => { await ctx.onPlanChanged(); await reload(saved.t_score === null ? 'Piano chiuso.' : `Piano chiuso. Punteggio T finale: ${tText(saved.t_score)}.`); }), 'btn-danger')) : null),
    closure || legacyClosure, head,
    h('h3', { text: 'Obiettivi' }), goalsList,
    h('h3', { text: 'Verifiche' }), reviewsList,
    h('div', { class: 'grid-even' },
      h('div', null, h('div', { class: 'item-head' }, h('h3', { text: 'Risorse della persona e della famiglia' }),
        write ? button('+ Aggiungi', () => ownResourceDialog(plan.id, () => reload('Risorsa aggiunta.'))) : null), own),
      h('div', null, h('h3', { text: 'Chi sostiene il piano' }), splitView(data.split))),
    h('div', { class: 'item-head' }, h('h3', { text: 'Da beneficiario a contributore' }),
      write ? button('+ Registra un\'attivazione', () => activationDialog(plan.id, () => reload('Attivazione registrata.'))) : null),
    activations));
}
