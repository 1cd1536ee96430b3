// Shared UI pieces: messages (with aria-live), empty states, loading, forms with field
// errors, confirmation dialogs, formatting.

import { h, clear, uid } from './dom.js';
import { helpFor } from './help.js';
import { formatEuro, formatNumber, formatPercent } from './i18n.js';

// --- live messages ----------------------------------------------------------------------

export function announce(text, { assertive = false } = {}) {
  const region = document.getElementById(assertive ? 'live-assertive' : 'live-polite');
  if (!region) return;
  region.textContent = '';
  // A new text node after a tick makes screen readers read a repeated message again.
  setTimeout(() => { region.textContent = text; }, 50);
}

/** A visible message at the top of the screen; success/info are polite, errors assertive. */
export function flash(text, kind = 'success') {
  const holder = document.getElementById('flash');
  if (!holder) {
    announce(text, { assertive: kind === 'error' });
    return;
  }
  clear(holder);
  const box = h('div', { class: ['notice', `notice-${kind}`] },
    h('p', { text }),
    h('button', {
      type: 'button', class: 'notice-close', 'aria-label': 'Chiudi il messaggio',
      onclick: () => clear(holder),
    }, '×'));
  holder.append(box);
  announce(text, { assertive: kind === 'error' });
}

export function errorBox(error, { retry } = {}) {
  const message = error && error.message ? error.message : String(error);
  return h('div', { class: 'notice notice-error', role: 'alert' },
    h('p', { text: message }),
    retry ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: retry }, 'Riprova') : null);
}

export function loading(text = 'Caricamento…') {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export function emptyState(title, text, action) {
  return h('div', { class: 'empty' },
    h('p', { class: 'empty-title', text: title }),
    text ? h('p', { text }) : null,
    action || null);
}

/** Show a progress bar for long work; returns {update(done, total, text), done(text)}. */
export function progress(container, text) {
  const label = h('span', { text });
  const bar = h('progress', { max: 100 });
  bar.removeAttribute('value'); // indeterminate until told otherwise
  const box = h('div', { class: 'progress', role: 'status', 'aria-live': 'polite' }, label, bar);
  container.append(box);
  return {
    update(doneCount, total, note) {
      if (total) {
        bar.max = total;
        bar.value = doneCount;
      }
      if (note) label.textContent = note;
    },
    done() {
      box.remove();
    },
  };
}

// --- buttons ------------------------------------------------------------------------------

/** Run an async action from a button: disabled and busy meanwhile, error shown on failure. */
export async function busy(button, work, busyText) {
  const original = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (busyText) button.textContent = busyText;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    if (busyText) button.textContent = original;
  }
}

// --- forms ----------------------------------------------------------------------------------

/**
 * A labelled field. `control` is an input/select/textarea (its `name` maps API field errors);
 * returns the wrapper. Hints and errors are tied to the control with aria-describedby.
 */
export function field(labelText, control, { hint, required = false, className } = {}) {
  const id = control.id || uid('f');
  control.id = id;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, errorId].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', describedBy);
  if (required) {
    control.required = true;
    control.setAttribute('aria-required', 'true');
  }
  // The hint goes under the control: side by side in a row, labels and controls then line
  // up whether or not a field has a hint (it is still read with the control).
  return h('div', { class: ['field', className], dataset: { field: control.name || '' } },
    h('label', { for: id }, labelText, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    h('p', { class: 'field-error', id: errorId, hidden: true }),
    control,
    hint ? h('p', { class: 'hint', id: hintId, text: hint }) : null);
}

/** A group of checkboxes as a fieldset. options: [[value, label], ...] */
export function checkboxGroup(legend, name, options, selected = [], { hint, columns = false } = {}) {
  const chosen = new Set(selected);
  const hintId = hint ? uid('hint') : null;
  const errorId = uid('err');
  return h('fieldset', { class: ['field', 'checks', columns ? 'checks-columns' : null], dataset: { field: name }, 'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') },
    h('legend', { text: legend }),
    hint ? h('p', { class: 'hint', id: hintId, text: hint }) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }),
    h('div', { class: 'check-list' }, options.map(([value, text]) => {
      const id = uid('c');
      return h('div', { class: 'check' },
        h('input', { type: 'checkbox', id, name, value, checked: chosen.has(value) }),
        h('label', { for: id, text }));
    })));
}

export function checkedValues(form, name) {
  return [...form.querySelectorAll(`input[type=checkbox][name="${name}"]`)].filter((el) => el.checked).map((el) => el.value);
}

export function select(name, options, value, { placeholder } = {}) {
  return h('select', { name },
    placeholder !== undefined ? h('option', { value: '', text: placeholder }) : null,
    options.map(([v, text]) => h('option', { value: v, text, selected: String(v) === String(value ?? '') })));
}

export function input(name, value, attrs = {}) {
  return h('input', { name, type: 'text', value: value ?? '', ...attrs });
}

export function textarea(name, value, attrs = {}) {
  const el = h('textarea', { name, rows: 3, ...attrs });
  el.value = value ?? '';
  return el;
}

export function formErrors(form) {
  let summary = form.querySelector('.error-summary');
  if (!summary) {
    summary = h('div', { class: 'error-summary', tabindex: '-1', hidden: true });
    form.prepend(summary);
  }
  return summary;
}

export function resetErrors(form) {
  form.querySelectorAll('.field-error').forEach((el) => { el.hidden = true; el.textContent = ''; });
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  const summary = form.querySelector('.error-summary');
  if (summary) { summary.hidden = true; clear(summary); }
}

/** Put an API error next to the fields it names, plus a summary at the top that takes focus. */
export function showFormError(form, error, labels = {}, { title = 'Non è stato possibile salvare' } = {}) {
  resetErrors(form);
  const summary = formErrors(form);
  const byField = typeof error.fieldMessages === 'function' ? error.fieldMessages() : {};
  const items = [];
  for (const [rawName, message] of Object.entries(byField)) {
    const name = String(rawName).replace(/\[\d+\]$/, '').replace(/^data\./, '');
    const wrapper = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!wrapper) continue;
    const text = message;
    const slot = wrapper.querySelector('.field-error');
    slot.textContent = text;
    slot.hidden = false;
    const control = wrapper.querySelector('input, select, textarea');
    if (control) control.setAttribute('aria-invalid', 'true');
    items.push([control, labels[name] || wrapper.querySelector('label, legend')?.textContent || name, text]);
  }
  summary.append(h('h2', { text: title }),
    items.length ? h('p', { text: items.length === 1 ? 'Correggi il campo indicato:' : 'Correggi i campi indicati:' }) : h('p', { text: error.message }));
  if (items.length) {
    summary.append(h('ul', null, items.map(([control, name, text]) => h('li', null,
      control ? h('a', { href: `#${control.id}`, onclick: (event) => { event.preventDefault(); control.focus(); } }, `${name.replace(/\s*\*$/, '')}: ${text}`) : text))));
  }
  summary.setAttribute('role', 'alert');
  summary.hidden = false;
  summary.focus();
}

// --- dialogs ---------------------------------------------------------------------------------

/** A modal dialog (native <dialog>: focus is kept inside and Esc closes it). */
export function openDialog(title, body, { onClose, wide = false } = {}) {
  const titleId = uid('dlg');
  const dialog = h('dialog', { class: ['dialog', wide ? 'dialog-wide' : null], 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' },
      h('h2', { id: titleId, text: title }),
      h('button', { type: 'button', class: 'dialog-close', 'aria-label': 'Chiudi', onclick: () => dialog.close() }, '×')),
    body);
  const opener = document.activeElement;
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (onClose) onClose(dialog.returnValue);
    if (opener && document.contains(opener)) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

export function confirmDialog(title, text, { confirmText = 'Conferma', danger = false } = {}) {
  return new Promise((resolve) => {
    let answered = false;
    const yes = h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], text: confirmText });
    const no = h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla' });
    const dialog = openDialog(title, h('div', null, h('p', { text }), h('div', { class: 'actions' }, yes, no)), {
      onClose: () => resolve(answered),
    });
    yes.addEventListener('click', () => { answered = true; dialog.close(); });
    no.addEventListener('click', () => dialog.close());
    no.focus();
  });
}

/** Ask for a short text (e.g. a reason); resolves to the text or null. */
export function promptDialog(title, labelText, { hint, required = true, confirmText = 'Invia', maxLength = 500 } = {}) {
  return new Promise((resolve) => {
    let value = null;
    const area = textarea('reason', '', { maxlength: maxLength });
    const form = h('form', { class: 'stack', novalidate: true },
      field(labelText, area, { hint, required }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', text: confirmText }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = area.value.trim();
      if (required && !text) {
        const slot = form.querySelector('.field-error');
        slot.textContent = 'Scrivi il motivo: aiuta chi ha proposto a trovare un\'alternativa.';
        slot.hidden = false;
        area.setAttribute('aria-invalid', 'true');
        area.focus();
        return;
      }
      value = text;
      dialog.close();
    });
    const dialog = openDialog(title, form, { onClose: () => resolve(value) });
    area.focus();
  });
}

// --- formatting --------------------------------------------------------------------------------

const dateFmt = new Intl.DateTimeFormat('it-IT', { day: 'numeric', month: 'long', year: 'numeric' });
const shortDateFmt = new Intl.DateTimeFormat('it-IT', { day: 'numeric', month: 'short' });
const dateTimeFmt = new Intl.DateTimeFormat('it-IT', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

export function parseDate(value) {
  if (!value) return null;
  if (value instanceof Date) return value;
  // A bare date is a calendar day, not midnight UTC.
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split('-').map(Number);
    return new Date(y, m - 1, d);
  }
  return new Date(value);
}

export const fmt = {
  date: (value) => (value ? dateFmt.format(parseDate(value)) : '—'),
  shortDate: (value) => (value ? shortDateFmt.format(parseDate(value)) : '—'),
  dateTime: (value) => (value ? dateTimeFmt.format(parseDate(value)) : '—'),
  // Numbers through web/js/i18n.js, so every screen writes them alike.
  number: (value) => formatNumber(value),
  euro: (value) => formatEuro(value),
  percent: (value) => formatPercent(value),
  daysAgo(value) {
    if (!value) return 'mai';
    const days = Math.floor((Date.now() - parseDate(value).getTime()) / 86_400_000);
    if (days <= 0) return 'oggi';
    if (days === 1) return 'ieri';
    return `${days} giorni fa`;
  },
};

// The ambiti are Italian: "today" is the calendar day in Italy whatever the browser's time zone,
// the day the server checks dates against (a period may run to today, a report not past it).
const ITALY_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit' });

export function italyTodayIso() {
  return ITALY_DAY.format(new Date());
}

export function italyToday() {
  const [y, m, d] = italyTodayIso().split('-').map(Number);
  return new Date(y, m - 1, d);
}

export function isoDate(date) {
  const y = date.getFullYear();
  const m = String(date.getMonth() + 1).padStart(2, '0');
  const d = String(date.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}

export function addDays(date, days) {
  const copy = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  copy.setDate(copy.getDate() + days);
  return copy;
}

export function mondayOf(date) {
  const day = (date.getDay() + 6) % 7; // Monday = 0
  return addDays(date, -day);
}

/**
 * Freshness of a resource's confirmation: [css class, Italian text]. The state comes from
 * the server (`freshness`, the rule the homes' counts use too); the days are only the text.
 */
export function freshness(resource) {
  if (resource.status === 'expired') return ['neutral', 'Scaduta'];
  if (resource.status === 'archived') return ['neutral', 'Archiviata'];
  const when = `confermata ${fmt.daysAgo(resource.confirmed_at)}`;
  const state = resource.freshness ?? (resource.status === 'stale' ? 'stale' : 'fresh');
  if (state === 'stale') return ['stale', `Da riconfermare · ${when}`];
  if (state === 'aging') return ['aging', `Da confermare · ${when}`];
  return ['fresh', `Confermata ${fmt.daysAgo(resource.confirmed_at)}`];
}

export function badge(text, kind = 'neutral') {
  return h('span', { class: ['badge', `badge-${kind}`], text });
}

/** The «?» next to a screen's title: a few sentences on what the screen is for. */
export function helpToggle(text) {
  return h('details', { class: 'help' },
    h('summary', null, h('span', { 'aria-hidden': 'true', text: '?' }), h('span', { class: 'sr-only', text: 'Aiuto su questa pagina' })),
    h('p', { text }));
}

function currentPath() {
  return (window.location.hash.replace(/^#/, '').split('?')[0]) || '/';
}

/**
 * Page header: h1 (focus target after navigation), optional lead text and actions, and the
 * screen's help (web/js/help.js) unless `help: false`.
 */
export function pageHeader(title, { lead, actions, crumbs, help } = {}) {
  const helpText = help === false ? null : (help || helpFor(currentPath()));
  return h('div', { class: 'page-head' },
    crumbs ? h('nav', { 'aria-label': 'Percorso', class: 'crumbs' }, h('ol', null, crumbs.map(([text, href]) => h('li', null, href ? h('a', { href, text }) : h('span', { 'aria-current': 'page', text }))))) : null,
    h('div', { class: 'page-title' },
      h('div', { class: 'title-help' }, h('h1', { tabindex: '-1', text: title }), helpText ? helpToggle(helpText) : null),
      actions ? h('div', { class: 'actions' }, actions) : null),
    lead ? h('p', { class: 'lead', text: lead }) : null);
}

// A message to show on the next screen (after a save that navigates away).
let pendingFlash = null;
export function flashNext(text, kind = 'success') {
  pendingFlash = [text, kind];
}
export function showPendingFlash() {
  if (!pendingFlash) return;
  const [text, kind] = pendingFlash;
  pendingFlash = null;
  flash(text, kind);
}

/** Call an API that may not exist yet on this server: null when it answers 404/405. */
export async function optional(promise) {
  try {
    return await promise;
  } catch (error) {
    if (error && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}
