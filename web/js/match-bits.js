// Pieces shared by the screens that show needs, suggestions and matches.

import { h } from './dom.js';
import { DAY_NAME, LANGUAGES, MATCH_STATUS, label } from './i18n.js';
import { comuneNames } from './store.js';
import { badge, fmt } from './ui.js';

export const NEED_UNITS = {
  minutes_per_week: 'minuti a settimana',
  hours_per_week: 'ore a settimana',
  times_per_week: 'volte a settimana',
  trips_per_week: 'viaggi a settimana',
  meals_per_week: 'pasti a settimana',
  items: 'pezzi',
  places: 'posti',
};

const NEED_UNITS_ONE = {
  minutes_per_week: 'minuto a settimana', hours_per_week: 'ora a settimana', times_per_week: 'volta a settimana',
  trips_per_week: 'viaggio a settimana', meals_per_week: 'pasto a settimana', items: 'pezzo', places: 'posto',
};

export function quantityText(quantity, unit) {
  return `${fmt.number(quantity)} ${quantity === 1 ? (NEED_UNITS_ONE[unit] || label(NEED_UNITS, unit)) : label(NEED_UNITS, unit)}`;
}

export const NEED_STATUS = { open: 'Aperto', matched: 'Coperto', closed: 'Chiuso' };

export const COMPONENTS = {
  category_fit: 'Categoria',
  schedule_overlap: 'Orari compatibili',
  capacity: 'Capacità residua',
  proximity: 'Vicinanza',
  language: 'Lingua',
  continuity: 'Continuità',
  load_spread: 'Carico distribuito',
  new_tie: 'Nuovo legame nella rete',
  freshness: 'Conferma recente',
};

export const PRIORITIES = { 1: 'Bassa', 2: 'Medio-bassa', 3: 'Media', 4: 'Alta', 5: 'Urgente' };

const STATUS_KIND = {
  proposed: 'info', accepted: 'success', active: 'success', declined: 'danger', withdrawn: 'neutral', completed: 'neutral',
};

export function matchBadge(status) {
  return badge(label(MATCH_STATUS, status), STATUS_KIND[status] || 'neutral');
}

export function scheduleText(schedule) {
  if (!schedule || !schedule.length) return 'orario flessibile';
  return schedule.map((w) => `${DAY_NAME[w.weekday] || w.weekday} ${w.start}–${w.end}`).join('; ');
}

export function needSummary(need, tax, names) {
  const category = tax.byCode[need.category_code]?.name ?? need.category_code;
  return {
    category,
    quantity: quantityText(need.quantity, need.unit),
    schedule: scheduleText(need.schedule),
    comune: need.comune ? (names[need.comune] || need.comune) : '—',
    period: need.start_date || need.end_date ? `${need.start_date ? `dal ${fmt.date(need.start_date)}` : ''}${need.end_date ? ` al ${fmt.date(need.end_date)}` : ''}`.trim() : 'senza scadenza',
  };
}

/** A need described as a definition list (what the holder side may see of it). */
export function needFacts(need, tax, names) {
  const s = needSummary(need, tax, names);
  return h('dl', { class: 'facts' },
    h('dt', { text: 'Di cosa c\'è bisogno' }), h('dd', { text: s.category }),
    h('dt', { text: 'Quanto' }), h('dd', { text: s.quantity }),
    h('dt', { text: 'Quando' }), h('dd', { text: s.schedule }),
    h('dt', { text: 'Dove' }), h('dd', { text: need.max_distance_km ? `${s.comune}, entro ${fmt.number(need.max_distance_km)} km` : s.comune }),
    h('dt', { text: 'Periodo' }), h('dd', { text: s.period }),
    need.languages?.length ? [h('dt', { text: 'Lingue' }), h('dd', { text: need.languages.map((c) => LANGUAGES[c] || c).join(', ') })] : null,
    need.requirements?.length ? [h('dt', { text: 'Requisiti' }), h('dd', { text: need.requirements.join(', ') })] : null);
}

/** The explanation of a score: each component with a bar and its reason in Italian. */
export function explanation(components, summary) {
  const box = h('div', { class: 'explanation' },
    summary && !(components && components.length) ? h('p', { class: 'small why', text: summary }) : null,
    components && components.length ? h('ul', { class: 'explain', 'aria-label': 'Perché questa risorsa' }, components.map((c) => {
      const pct = Math.max(0, Math.min(1, Number(c.value) || 0));
      return h('li', null,
        h('span', { text: label(COMPONENTS, c.name) }),
        h('span', { class: 'meter', role: 'img', 'aria-label': `${Math.round(pct * 100)} su 100` }, h('span', { style: { width: `${pct * 100}%` } })),
        h('span', { class: 'why small', text: c.reason }));
    })) : null);
  // The server's reasons may name a comune by its ISTAT code («sede: 013165»): the names of
  // the ambito's comuni (cached by the store) replace them once known.
  comuneNames().then((names) => {
    for (const el of box.querySelectorAll('.why')) el.textContent = withComuneNames(el.textContent, names);
  }).catch(() => {});
  return box;
}

/** «nel comune 013165» → «nel comune Olgiate Comasco» for the comuni whose names are known. */
export function withComuneNames(text, names) {
  return String(text).replace(/\b\d{6}\b/g, (code) => names[code] || code);
}

export function scoreText(score) {
  return score === null || score === undefined ? '—' : `${Math.round(Number(score) * 100)}/100`;
}

/**
 * What tells one match from another with the same resource: the plan's pseudonymous case
 * code (only the plan side sees it), the need's category and times, the period.
 * caseCodes: { plan_id: case_code } (empty for the holder side).
 */
export function matchDistinction(m, tax, names, caseCodes = {}) {
  const s = needSummary(m.need, tax, names);
  const plan = m.plan_id && caseCodes[m.plan_id] ? `Piano ${caseCodes[m.plan_id]}` : null;
  return [plan, s.category, s.schedule, s.comune !== '—' ? s.comune : null, s.period].filter(Boolean).join(' · ');
}

/** { plan_id: case_code } of the plans the caller sees (none for the holder side). */
export async function planCaseCodes(session, apiAll) {
  if (session.role === 'holder_manager' || session.role === 'volunteer') return {};
  const plans = await apiAll('/api/plans');
  return Object.fromEntries(plans.map((p) => [p.id, p.case_code]));
}
