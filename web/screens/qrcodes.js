import { api } from '../js/api.js';
import { h, fill } from '../js/dom.js';
import { matchBadge, needSummary } from '../js/match-bits.js';
import { comuneNames, comuni, taxonomy } from '../js/store.js';
import {
  busy, emptyState, errorBox, field, flash, fmt, input, isoDate, loading, openDialog, pageHeader, select,
  showFormError,
} from '../js/ui.js';

function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export default async function qrcodes(root, { session, user }) {
  const [names, comuneList, tax] = await Promise.all([comuneNames(), comuni(), taxonomy()]);
  const activitiesBox = h('div');
  const matchesBox = h('div');
  const codesBox = h('section', { 'aria-labelledby': 'codes-title', hidden: true },
    h('h2', { id: 'codes-title', text: 'Codici generati' }));
  const codesList = h('div', { class: 'qr-sheet' });
  codesBox.append(codesList);
  const scope = session.role === 'holder_manager' && user.holder_id ? { holder_id: user.holder_id } : {};

  /** Ask for the validity window, then issue the code and show it. */
  function generate(target, title) {
    const now = new Date();
    const from = input('valid_from', localInput(now), { type: 'datetime-local' });
    const until = input('valid_until', localInput(new Date(now.getTime() + 12 * 3600_000)), { type: 'datetime-local' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Genera il codice QR' });
    const form = h('form', { novalidate: true },
      h('p', { text: `Per: ${title}` }),
      h('p', { class: 'small muted', text: 'Le presenze valgono solo in questo intervallo: il tempo registrato non lo supera mai.' }),
      h('div', { class: 'row' }, field('Valido dal', from, { required: true }), field('Fino al', until, { required: true })),
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const code = await busy(submit, () => api('/api/checkin/codes', {
          method: 'POST',
          body: { ...target, valid_from: new Date(from.value).toISOString(), valid_until: new Date(until.value).toISOString() },
        }), 'Generazione…');
        dialog.close();
        showCode(code);
      } catch (error) {
        showFormError(form, error, { valid_from: 'Valido dal', valid_until: 'Fino al' });
      }
    });
    const dialog = openDialog('Nuovo codice QR', form);
    from.focus();
  }

  function showCode(code) {
    codesBox.hidden = false;
    const card = h('article', { class: 'qr-card', 'aria-label': `Codice QR: ${code.title}` },
      h('h3', { text: code.title }),
      h('p', { class: 'small', text: code.holder_name }),
      h('img', { src: code.png_url, alt: `Codice QR per registrare la presenza a «${code.title}»`, width: 200, height: 200 }),
      h('p', { class: 'small', text: `Valido dal ${fmt.dateTime(code.valid_from)} al ${fmt.dateTime(code.valid_until)}` }),
      h('p', { class: 'small' }, 'Indirizzo del codice: ', h('a', { href: code.url, class: 'qr-url', text: 'pagina di registrazione' })),
      h('div', { class: 'actions no-print', style: { justifyContent: 'center' } },
        h('a', { class: 'btn btn-primary btn-small', href: code.sheet_url, target: '_blank', rel: 'noopener' }, 'Foglio A4 da stampare'),
        h('a', { class: 'btn btn-secondary btn-small', href: code.badge_url, target: '_blank', rel: 'noopener' }, 'Badge'),
        h('a', { class: 'btn btn-secondary btn-small', href: code.svg_url, download: 'codice-qr.svg' }, 'SVG')));
    codesList.prepend(card);
    flash(`Codice QR pronto per «${code.title}». Stampalo e appendilo all'ingresso.`);
    card.querySelector('a').focus();
  }

  async function loadActivities() {
    fill(activitiesBox, loading());
    try {
      const page = await api('/api/activities', { query: { ...scope, limit: 100 } });
      const items = (page.items || page).filter((a) => a.status !== 'cancelled');
      if (!items.length) {
        fill(activitiesBox, emptyState('Nessuna attività di comunità', 'Crea un\'attività (una giornata di raccolta, un laboratorio, un turno al centro d\'ascolto) per generarne il codice QR.', h('button', { type: 'button', class: 'btn btn-secondary', onclick: newActivity }, 'Crea un\'attività')));
        return;
      }
      fill(activitiesBox, h('ul', { class: 'rules' }, items.map((a) => h('li', null,
        h('div', null, h('strong', { text: a.title }), h('div', { class: 'small muted', text: `${fmt.date(a.starts_on)}${a.ends_on && a.ends_on !== a.starts_on ? ` – ${fmt.date(a.ends_on)}` : ''}${a.comune ? ` · ${names[a.comune] || a.comune}` : ''}` })),
        h('button', { type: 'button', class: 'btn btn-primary btn-small', 'aria-label': `Genera il codice QR per «${a.title}»`, onclick: () => generate({ activity_id: a.id }, a.title) }, 'Genera il codice QR')))));
    } catch (error) {
      fill(activitiesBox, errorBox(error, { retry: loadActivities }));
    }
  }

  async function loadMatches() {
    fill(matchesBox, loading());
    try {
      const [accepted, active] = await Promise.all([
        api('/api/matches', { query: { status: 'accepted', limit: 100 } }),
        api('/api/matches', { query: { status: 'active', limit: 100 } }),
      ]);
      const items = [...active.items, ...accepted.items];
      if (!items.length) {
        fill(matchesBox, emptyState('Nessun abbinamento in corso', 'Quando accetti una proposta, qui puoi generare il codice QR con cui i volontari registrano le presenze per quel progetto.'));
        return;
      }
      fill(matchesBox, h('ul', { class: 'rules' }, items.map((m) => {
        const s = needSummary(m.need, tax, names);
        return h('li', null,
          h('div', null, h('strong', { text: m.resource_title }), ' ', matchBadge(m.status), h('div', { class: 'small muted', text: `${s.category} · ${s.schedule} · ${s.comune}` })),
          h('button', { type: 'button', class: 'btn btn-primary btn-small', 'aria-label': `Genera il codice QR per «${m.resource_title}»`, onclick: () => generate({ match_id: m.id }, `${m.resource_title} (${s.category})`) }, 'Genera il codice QR'));
      })));
    } catch (error) {
      fill(matchesBox, errorBox(error, { retry: loadMatches }));
    }
  }

  function newActivity() {
    const title = input('title', '', { maxlength: 200 });
    const starts = input('starts_on', isoDate(new Date()), { type: 'date' });
    const ends = input('ends_on', '', { type: 'date' });
    const comune = select('comune', comuneList.map((c) => [c.istat_code, c.name]), '', { placeholder: '—' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Crea l\'attività' });
    const form = h('form', { novalidate: true },
      field('Titolo', title, { required: true, hint: 'Ad esempio «Raccolta alimentare di sabato»' }),
      h('div', { class: 'row' }, field('Dal', starts, { required: true }), field('Al', ends, { hint: 'Vuoto: un giorno solo' })),
      field('Comune', comune),
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!title.value.trim()) {
        showFormError(form, { message: 'Scrivi il titolo dell\'attività.', fieldMessages: () => ({ title: 'Il titolo è obbligatorio.' }) });
        return;
      }
      try {
        await busy(submit, () => api('/api/activities', {
          method: 'POST',
          body: { title: title.value.trim(), starts_on: starts.value, ends_on: ends.value || null, comune: comune.value || null },
        }));
        dialog.close();
        flash('Attività creata: ora puoi generarne il codice QR.');
        await loadActivities();
      } catch (error) {
        showFormError(form, error, { title: 'Titolo', starts_on: 'Dal', ends_on: 'Al', comune: 'Comune' });
      }
    });
    const dialog = openDialog('Nuova attività di comunità', form);
    title.focus();
  }

  root.append(
    pageHeader('Codici QR per le presenze', {
      lead: 'Stampa il codice e appendilo dove si svolge l\'attività: i volontari lo inquadrano con il telefono, premono «Entrata» e «Uscita», e le ore risultano verificate.',
      actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: newActivity }, '+ Nuova attività')],
    }),
    codesBox,
    h('div', { class: 'grid-even' },
      h('section', { class: 'card', 'aria-labelledby': 'act-title' }, h('h2', { id: 'act-title', text: 'Attività di comunità' }), activitiesBox),
      h('section', { class: 'card', 'aria-labelledby': 'match-title' }, h('h2', { id: 'match-title', text: 'Abbinamenti in corso' }), matchesBox)));
  await Promise.all([loadActivities(), loadMatches()]);
}
