// Availability as a week calendar, edited in place: click an empty hour (or "Aggiungi" on a
// day, from the keyboard) to add a recurring window there; click a block to change the rule,
// skip that single date, or remove it. The list of rules below the grid says the same thing
// in words, for screen readers and for printing.

import { api } from './api.js';
import { h, clear, uid, fill } from './dom.js';
import { DAYS, DAY_NAME, FREQUENCIES, ORDINALS, label } from './i18n.js';
import {
  addDays, announce, busy, confirmDialog, errorBox, field, fmt, input, isoDate, italyToday,
  italyTodayIso, loading, mondayOf, openDialog, parseDate, showFormError, textarea,
} from './ui.js';

const HOUR_PX = 44;
const dayTitle = new Intl.DateTimeFormat('it-IT', { weekday: 'long', day: 'numeric', month: 'long' });
const monthDay = new Intl.DateTimeFormat('it-IT', { day: 'numeric', month: 'short' });

function minutes(hhmm) {
  const [hh, mm] = hhmm.split(':').map(Number);
  return hh * 60 + mm;
}

function hhmmOf(dateTime) {
  // The API sends the ambito's wall-clock time with its UTC offset
  // ("2026-10-25T02:30:00+02:00"): read the time as written, never through the browser's
  // own time zone, so the grid shows the ambito's hours wherever it is opened.
  const match = /T(\d{2}:\d{2})/.exec(String(dateTime));
  return match ? match[1] : '00:00';
}

const FIELD_LABELS = {
  freq: 'Frequenza', interval: 'Ripetizione', by_day: 'Giorni', start_time: 'Dalle', end_time: 'Alle',
  valid_from: 'Valida dal', valid_until: 'Fino al', exceptions: 'Date escluse', capacity: 'Capacità', notes: 'Note',
};

/** Describe a window in Italian: "Ogni settimana il lunedì e il giovedì, 09:00–12:00". */
export function describeWindow(window) {
  const every = window.interval > 1
    ? { WEEKLY: `Ogni ${window.interval} settimane`, DAILY: `Ogni ${window.interval} giorni`, MONTHLY: `Ogni ${window.interval} mesi` }[window.freq]
    : label(FREQUENCIES, window.freq);
  let days = '';
  if (window.by_day && window.by_day.length) {
    const names = window.by_day.map((code) => {
      const match = /^([+-]?\d)?(\w\w)$/.exec(code);
      if (!match) return code;
      const day = DAY_NAME[match[2]] || match[2];
      return match[1] ? `${ORDINALS[match[1].replace('+', '')] || match[1]} ${day}` : `il ${day}`.replace('il domenica', 'la domenica');
    });
    days = ` ${names.length > 1 ? `${names.slice(0, -1).join(', ')} e ${names.at(-1)}` : names[0]}`;
    if (window.freq === 'MONTHLY') days = ` —${days} del mese`;
  }
  return `${every}${days}, ${window.start_time}–${window.end_time}`;
}

function windowBody(window, overrides = {}) {
  return {
    freq: window.freq,
    interval: window.interval,
    by_day: window.by_day,
    start_time: window.start_time,
    end_time: window.end_time,
    valid_from: window.valid_from,
    valid_until: window.valid_until,
    exceptions: window.exceptions,
    capacity: window.capacity,
    notes: window.notes || '',
    ...overrides,
  };
}

/**
 * The calendar widget. options: resourceId, editable, unitLabel, onChange(kind) after a save.
 * Returns an element; it loads its own data.
 */
export function weekCalendar({ resourceId, editable, unitLabel = 'posti', onChange }) {
  const titleId = uid('cal');
  let weekStart = mondayOf(italyToday());
  let windows = [];
  let slots = [];

  const heading = h('h3', { id: titleId, 'aria-live': 'polite' });
  const gridHolder = h('div');
  const rulesHolder = h('div');
  const root = h('section', { class: 'calendar', 'aria-labelledby': titleId },
    h('div', { class: 'week-nav' },
      heading,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => move(-7) }, h('span', { 'aria-hidden': 'true' }, '‹ '), 'Settimana precedente'),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => { weekStart = mondayOf(italyToday()); load(); } }, 'Oggi'),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => move(7) }, 'Settimana successiva', h('span', { 'aria-hidden': 'true' }, ' ›')))),
    gridHolder,
    h('ul', { class: 'calendar-legend', 'aria-label': 'Legenda' },
      h('li', { text: 'settimanale' }), h('li', { class: 'daily', text: 'giornaliera' }), h('li', { class: 'monthly', text: 'mensile' })),
    h('h3', { text: 'Fasce di disponibilità ricorrenti' }),
    rulesHolder);

  function move(days) {
    weekStart = addDays(weekStart, days);
    load();
  }

  async function load() {
    const weekEnd = addDays(weekStart, 6);
    heading.textContent = `Settimana dal ${fmt.date(weekStart).replace(/ \d{4}$/, '')} al ${fmt.date(weekEnd)}`;
    fill(gridHolder, loading('Caricamento della disponibilità…'));
    try {
      [windows, { slots }] = await Promise.all([
        api(`/api/resources/${resourceId}/availability`),
        api(`/api/resources/${resourceId}/slots`, { query: { from: isoDate(weekStart), to: isoDate(weekEnd) } }),
      ]);
    } catch (error) {
      fill(gridHolder, errorBox(error, { retry: load }));
      return;
    }
    renderGrid();
    renderRules();
  }

  function renderGrid() {
    const byWindow = Object.fromEntries(windows.map((w) => [w.id, w]));
    let first = 8 * 60;
    let last = 20 * 60;
    for (const slot of slots) {
      first = Math.min(first, minutes(hhmmOf(slot.start)));
      last = Math.max(last, minutes(hhmmOf(slot.end)));
    }
    const startHour = Math.floor(first / 60);
    const endHour = Math.min(24, Math.ceil(last / 60));
    const height = (endHour - startHour) * HOUR_PX;
    const today = italyTodayIso();

    const hours = h('div', { class: 'week-hours', 'aria-hidden': 'true' });
    const columns = [];
    for (let i = 0; i < 7; i += 1) {
      const day = addDays(weekStart, i);
      const iso = isoDate(day);
      const [code, , short] = DAYS[i];
      const daySlots = slots.filter((slot) => slot.date === iso).sort((a, b) => a.start.localeCompare(b.start));
      const body = h('div', { class: 'day-body', style: { height: `${height}px` } });
      if (editable) {
        body.addEventListener('click', (event) => {
          if (event.target !== body) return;
          // Pointer shortcut: a new window starting at the clicked hour on this weekday.
          const hour = Math.min(23, startHour + Math.floor(event.offsetY / HOUR_PX));
          const end = Math.min(23, hour + 2);
          editWindow(null, { by_day: [code], start_time: `${String(hour).padStart(2, '0')}:00`, end_time: `${String(end).padStart(2, '0')}:${end === hour ? '59' : '00'}`, valid_from: iso < today ? today : iso });
        });
      }
      if (!daySlots.length) body.append(h('p', { class: 'week-empty-day', text: 'Nessuna disponibilità' }));
      for (const slot of daySlots) {
        const window = byWindow[slot.window_id];
        const from = hhmmOf(slot.start);
        const to = hhmmOf(slot.end);
        const top = ((minutes(from) - startHour * 60) / 60) * HOUR_PX;
        const blockHeight = Math.max(22, ((minutes(to) - minutes(from)) / 60) * HOUR_PX - 2);
        const kind = window ? window.freq.toLowerCase() : 'weekly';
        const text = `${from}–${to}`;
        // The visible text is part of the accessible name (WCAG 2.5.3); the day and the rule
        // are added for screen readers only.
        const block = h(editable ? 'button' : 'div', {
          class: ['slot', kind],
          type: editable ? 'button' : undefined,
          style: { top: `${top}px`, height: `${blockHeight}px` },
          title: window ? describeWindow(window) : text,
        },
        h('span', { class: 'sr-only', text: `${dayTitle.format(day)}, ` }),
        h('span', { class: 'slot-time', text }),
        h('span', { text: ` ${slot.capacity} ${unitLabel}` }),
        h('span', { class: 'sr-only', text: `${window ? `. ${describeWindow(window)}` : ''}${editable ? '. Modifica' : ''}` }));
        if (editable && window) block.addEventListener('click', () => editWindow(window, null, iso));
        body.append(block);
      }
      columns.push(h('div', { class: ['day', iso === today ? 'today' : null], role: 'group', 'aria-label': dayTitle.format(day) },
        h('div', { class: 'day-head' },
          h('span', { class: 'day-name', text: short }),
          h('span', { class: 'day-date', text: monthDay.format(day) }),
          editable ? h('button', {
            type: 'button', class: 'btn btn-secondary day-add',
            'aria-label': `Aggiungi disponibilità ${dayTitle.format(day)}`,
            onclick: () => editWindow(null, { by_day: [code], valid_from: iso < today ? today : iso }),
          }, h('span', { 'aria-hidden': 'true' }, '+'), h('span', { class: 'day-add-text' }, ' Aggiungi')) : null),
        body));
    }
    for (let hour = startHour; hour < endHour; hour += 1) {
      hours.append(h('span', { class: 'hour', style: { top: `calc(var(--head) + ${(hour - startHour) * HOUR_PX}px)` }, text: `${String(hour).padStart(2, '0')}:00` }));
    }
    fill(gridHolder, h('div', { class: 'week' }, hours, columns));
  }

  function renderRules() {
    clear(rulesHolder);
    if (!windows.length) {
      rulesHolder.append(h('div', { class: 'empty' },
        h('p', { class: 'empty-title', text: 'Nessuna fascia di disponibilità' }),
        h('p', { text: editable
          ? 'Indica quando la risorsa è disponibile: chi cerca aiuto vede solo le risorse con orari. Usa «+ Aggiungi» sul giorno, oppure fai clic su un orario nel calendario.'
          : 'Il referente non ha ancora indicato gli orari di questa risorsa.' }),
        editable ? h('button', { type: 'button', class: 'btn btn-primary', onclick: () => editWindow(null, {}) }, 'Aggiungi una fascia') : null));
      return;
    }
    rulesHolder.append(h('ul', { class: 'rules' }, windows.map((window) => h('li', null,
      h('div', null,
        h('strong', { text: describeWindow(window) }),
        h('div', { class: 'small muted', text: [
          `Capacità ${window.capacity} ${unitLabel}`,
          `dal ${fmt.date(window.valid_from)}${window.valid_until ? ` al ${fmt.date(window.valid_until)}` : ''}`,
          window.exceptions.length ? `escluse: ${window.exceptions.map(fmt.shortDate).join(', ')}` : null,
          window.notes || null,
        ].filter(Boolean).join(' · ') })),
      editable ? h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Modifica: ${describeWindow(window)}`, onclick: () => editWindow(window) }, 'Modifica'),
        h('button', { type: 'button', class: 'btn btn-danger btn-small', 'aria-label': `Elimina: ${describeWindow(window)}`, onclick: () => removeWindow(window) }, 'Elimina')) : null))));
    if (editable) {
      rulesHolder.append(h('p', { class: 'actions', style: { marginTop: '.75rem' } },
        h('button', { type: 'button', class: 'btn btn-primary', onclick: () => editWindow(null, {}) }, 'Aggiungi una fascia')));
    }
  }

  async function removeWindow(window) {
    const ok = await confirmDialog('Eliminare la fascia?', `${describeWindow(window)}. La fascia sparirà dal calendario.`, { confirmText: 'Elimina', danger: true });
    if (!ok) return;
    try {
      await api(`/api/resources/${resourceId}/availability/${window.id}`, { method: 'DELETE' });
      announce('Fascia eliminata.');
      await load();
      if (onChange) onChange('deleted');
    } catch (error) {
      root.prepend(errorBox(error));
    }
  }

  function editWindow(window, preset = null, slotDate = null) {
    const base = window || {
      freq: 'WEEKLY', interval: 1, by_day: [], start_time: '09:00', end_time: '12:00',
      valid_from: italyTodayIso(), valid_until: null, exceptions: [], capacity: 1, notes: '',
      ...(preset || {}),
    };
    const exceptions = new Set(base.exceptions || []);
    const weekdayOf = (code) => code.replace(/^[+-]?\d/, '');
    const ordinalOf = (code) => (/^([+-]?\d)/.exec(code) || [])[1]?.replace('+', '');

    const freq = h('select', { name: 'freq' }, Object.entries(FREQUENCIES).map(([v, t]) => h('option', { value: v, text: t, selected: v === base.freq })));
    const interval = input('interval', base.interval, { type: 'number', min: 1, max: 52, inputmode: 'numeric' });
    const dayBoxes = h('fieldset', { class: 'field checks', dataset: { field: 'by_day' } },
      h('legend', { text: 'Giorni della settimana' }),
      h('p', { class: 'field-error', hidden: true }),
      h('div', { class: 'check-list' }, DAYS.map(([code, name]) => {
        const id = uid('d');
        return h('div', { class: 'check' }, h('input', { type: 'checkbox', id, name: 'day', value: code, checked: (base.by_day || []).some((d) => weekdayOf(d) === code) }), h('label', { for: id, text: name }));
      })));
    const ordinals = new Set((base.by_day || []).map(ordinalOf).filter(Boolean));
    const ordinalBoxes = h('fieldset', { class: 'field checks' },
      h('legend', { text: 'Quale settimana del mese' }),
      h('div', { class: 'check-list' }, Object.entries({ 1: 'prima', 2: 'seconda', 3: 'terza', 4: 'quarta', '-1': 'ultima' }).map(([value, text]) => {
        const id = uid('o');
        return h('div', { class: 'check' }, h('input', { type: 'checkbox', id, name: 'ordinal', value, checked: ordinals.has(value) }), h('label', { for: id, text }));
      })));
    const start = input('start_time', base.start_time, { type: 'time', step: 300 });
    const end = input('end_time', base.end_time, { type: 'time', step: 300 });
    const capacity = input('capacity', base.capacity, { type: 'number', min: 1, max: 10000, inputmode: 'numeric' });
    const validFrom = input('valid_from', base.valid_from, { type: 'date' });
    const validUntil = input('valid_until', base.valid_until || '', { type: 'date' });
    const notes = textarea('notes', base.notes || '', { maxlength: 300, rows: 2 });
    const exceptionList = h('ul', { class: 'tags', 'aria-label': 'Date escluse' });
    const newException = input('new_exception', slotDate || '', { type: 'date', 'aria-label': 'Data da escludere' });

    function drawExceptions() {
      clear(exceptionList);
      if (!exceptions.size) exceptionList.append(h('li', { class: 'muted small', text: 'Nessuna data esclusa.' }));
      for (const date of [...exceptions].sort()) {
        exceptionList.append(h('li', { class: 'badge badge-info' }, fmt.date(date), ' ',
          h('button', { type: 'button', class: 'link-button', 'aria-label': `Togli l'esclusione del ${fmt.date(date)}`, onclick: () => { exceptions.delete(date); drawExceptions(); } }, '×')));
      }
    }
    drawExceptions();

    const monthlyOnly = h('div', null, ordinalBoxes);
    function syncFreq() {
      monthlyOnly.hidden = freq.value !== 'MONTHLY';
      dayBoxes.hidden = freq.value === 'DAILY';
    }
    freq.addEventListener('change', syncFreq);
    syncFreq();

    const save = h('button', { type: 'submit', class: 'btn btn-primary', text: window ? 'Salva le modifiche' : 'Aggiungi la fascia' });
    const form = h('form', { class: 'window-form', novalidate: true },
      h('div', { class: 'row' },
        field('Frequenza', freq),
        field('Ripeti ogni', interval, { hint: '1 = ogni settimana (o giorno, o mese)' })),
      dayBoxes,
      monthlyOnly,
      h('div', { class: 'row' }, field('Dalle', start, { required: true }), field('Alle', end, { required: true }), field(`Capacità (${unitLabel})`, capacity, { required: true, hint: 'Quanti in contemporanea' })),
      h('div', { class: 'row' }, field('Valida dal', validFrom, { required: true }), field('Fino al', validUntil, { hint: 'Vuoto: senza scadenza' })),
      h('fieldset', { class: 'field', dataset: { field: 'exceptions' } },
        h('legend', { text: 'Date escluse (ferie, festività)' }),
        h('p', { class: 'field-error', hidden: true }),
        exceptionList,
        h('div', { class: 'row', style: { marginTop: '.5rem' } }, h('div', { class: 'field' }, newException),
          h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => {
            if (newException.value) { exceptions.add(newException.value); newException.value = ''; drawExceptions(); }
          } }, 'Escludi questa data'))),
      field('Note', notes, { hint: 'Facoltative, ad esempio «portare un documento»' }),
      h('div', { class: 'actions' },
        save,
        window && slotDate ? h('button', {
          type: 'button', class: 'btn btn-secondary',
          onclick: () => skipDate(window, slotDate, dialog),
        }, `Non disponibile solo il ${fmt.shortDate(slotDate)}`) : null,
        window ? h('button', { type: 'button', class: 'btn btn-danger', onclick: () => { dialog.close(); removeWindow(window); } }, 'Elimina la fascia') : null,
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const days = [...form.querySelectorAll('input[name=day]')].filter((el) => el.checked).map((el) => el.value);
      const ords = [...form.querySelectorAll('input[name=ordinal]')].filter((el) => el.checked).map((el) => el.value);
      let byDay = [];
      if (freq.value === 'WEEKLY') byDay = days;
      if (freq.value === 'MONTHLY') byDay = ords.length ? ords.flatMap((o) => days.map((d) => `${o}${d}`)) : days;
      if (freq.value === 'WEEKLY' && !byDay.length) {
        showFormError(form, { message: 'Scegli almeno un giorno della settimana.', fieldMessages: () => ({ by_day: 'Scegli almeno un giorno.' }) }, FIELD_LABELS);
        return;
      }
      const body = windowBody(base, {
        freq: freq.value,
        interval: Number(interval.value) || 1,
        by_day: byDay,
        start_time: start.value,
        end_time: end.value,
        valid_from: validFrom.value,
        valid_until: validUntil.value || null,
        exceptions: [...exceptions].sort(),
        capacity: Number(capacity.value),
        notes: notes.value,
      });
      try {
        const saved = await busy(save, () => api(
          window ? `/api/resources/${resourceId}/availability/${window.id}` : `/api/resources/${resourceId}/availability`,
          { method: window ? 'PUT' : 'POST', body },
        ), 'Salvataggio…');
        dialog.close();
        const shownFrom = await weekOfFirstSlot(saved);
        announce(`${window ? 'Disponibilità aggiornata.' : 'Fascia di disponibilità aggiunta.'}${shownFrom ? ` Si vede dalla settimana del ${fmt.date(shownFrom)}.` : ''}`);
        await load();
        if (onChange) onChange(window ? 'updated' : 'added');
      } catch (error) {
        showFormError(form, error, FIELD_LABELS);
      }
    });

    const title = window
      ? `Modifica: ${describeWindow(window)}`
      : `Nuova fascia${preset?.by_day?.length ? ` — ${DAY_NAME[preset.by_day[0]]}` : ''}`;
    const dialog = openDialog(title, form, { wide: true });
    (window ? start : (preset?.by_day?.length ? start : freq)).focus();
  }

  // A window added on a day already past this week (Saturday, seen on a Sunday) starts next
  // week: move the calendar to its first occurrence so the user sees what was added.
  async function weekOfFirstSlot(saved) {
    if (!saved || !saved.id) return null;
    const weekEnd = isoDate(addDays(weekStart, 6));
    const from = saved.valid_from > isoDate(weekStart) ? saved.valid_from : isoDate(weekStart);
    try {
      const { slots: ahead } = await api(`/api/resources/${resourceId}/slots`, {
        query: { from, to: isoDate(addDays(parseDate(from), 62)) },
      });
      const first = ahead.find((slot) => slot.window_id === saved.id);
      const firstDate = first ? String(first.date) : null;
      if (!firstDate || firstDate <= weekEnd) return null;
      weekStart = mondayOf(parseDate(firstDate));
      return weekStart;
    } catch {
      return null;  // the calendar stays where it is; the rule list below still shows the window
    }
  }

  async function skipDate(window, date, dialog) {
    try {
      await api(`/api/resources/${resourceId}/availability/${window.id}`, {
        method: 'PUT', body: windowBody(window, { exceptions: [...new Set([...window.exceptions, date])].sort() }),
      });
      dialog.close();
      announce(`Il ${fmt.date(date)} risulta non disponibile.`);
      await load();
      if (onChange) onChange('updated');
    } catch (error) {
      dialog.querySelector('form').prepend(errorBox(error));
    }
  }

  load();
  return root;
}

export { parseDate };
