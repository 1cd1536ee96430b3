import { api, apiAll } from '../js/api.js';
import { h, fill } from '../js/dom.js';
import { matchBadge, matchDistinction, needSummary, planCaseCodes } from '../js/match-bits.js';
import { comuneNames, comuni, taxonomy } from '../js/store.js';
import {
  badge, busy, confirmDialog, emptyState, errorBox, field, flash, fmt, input, italyTodayIso,
  loading, openDialog, pageHeader, select, showFormError,
} from '../js/ui.js';

const PAGE = 24;

function localInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export default async function qrcodes(root, { session, user }) {
  const [names, comuneList, tax] = await Promise.all([comuneNames(), comuni(), taxonomy()]);
  const activitiesBox = h('div');
  const matchesBox = h('div');
  // The codes issued so far (stored by the registry): valid ones as printable cards, then the
  // expired and revoked ones, marked, in a list that opens on request.
  const validBox = h('div');
  const staleBox = h('div');
  const codesBox = h('section', { class: 'card', 'aria-labelledby': 'codes-title' },
    h('h2', { id: 'codes-title', tabindex: '-1', text: 'Codici emessi' }),
    h('p', { class: 'small muted', text: 'I codici restano qui finché valgono: puoi ristamparli quando serve (è lo stesso codice già appeso) o revocarli se un foglio va perso.' }),
    validBox, staleBox);
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

  function validity(code) {
    return `Valido dal ${fmt.dateTime(code.valid_from)} al ${fmt.dateTime(code.valid_until)}`;
  }

  function codeCard(code) {
    const scheduled = code.status === 'scheduled';
    const title = `«${code.title}»`;
    return h('article', { class: 'qr-card', 'aria-label': `Codice QR: ${code.title}`, dataset: { codeId: code.id } },
      h('h3', { text: code.title }),
      h('p', { class: 'small' }, code.holder_name, ' ', scheduled ? badge('Non ancora valido', 'info') : badge('Valido', 'success')),
      // A code for later can be printed now; check-ins open when its window does.
      h('img', { src: code.png_url, alt: `Codice QR per registrare la presenza a ${title}`, width: 200, height: 200 }),
      h('p', { class: 'small', text: validity(code) }),
      h('p', { class: 'small' }, 'Indirizzo del codice: ', h('a', { href: code.url, class: 'qr-url', text: 'pagina di registrazione' })),
      h('div', { class: 'actions no-print', style: { justifyContent: 'center' } },
        [
          h('a', { class: 'btn btn-primary btn-small', href: code.sheet_url, target: '_blank', rel: 'noopener', 'aria-label': `Foglio A4 da stampare per ${title}` }, 'Foglio A4 da stampare'),
          h('a', { class: 'btn btn-secondary btn-small', href: code.badge_url, target: '_blank', rel: 'noopener', 'aria-label': `Badge per ${title}` }, 'Badge'),
          h('a', { class: 'btn btn-secondary btn-small', href: code.png_url, download: 'codice-qr.png', 'aria-label': `Immagine PNG del codice per ${title}` }, 'PNG'),
          h('a', { class: 'btn btn-secondary btn-small', href: code.svg_url, download: 'codice-qr.svg', 'aria-label': `Immagine SVG del codice per ${title}` }, 'SVG'),
        ],
        h('button', { type: 'button', class: 'btn btn-danger btn-small', 'aria-label': `Revoca il codice QR per ${title}`, onclick: () => revoke(code) }, 'Revoca')));
  }

  function staleItem(code) {
    const mark = code.status === 'revoked'
      ? badge(`Revocato il ${fmt.dateTime(code.revoked_at)}`, 'danger')
      : badge('Scaduto', 'warning');
    return h('li', null,
      h('div', null, h('strong', { text: code.title }), ' ', mark,
        h('div', { class: 'small muted', text: `${code.holder_name} · ${validity(code)}` })));
  }

  /** A list that loads PAGE codes at a time, with a "show more" button. */
  async function pagedList(box, query, render, container, empty) {
    fill(box, loading());
    let offset = 0;
    const more = h('button', { type: 'button', class: 'btn btn-secondary btn-small', text: 'Mostra altri codici' });
    async function next() {
      const page = await api('/api/checkin/codes', { query: { ...query, limit: PAGE, offset } });
      offset += page.items.length;
      container.append(...page.items.map(render));
      // Removed rather than hidden: the button class sets a display that beats [hidden].
      if (offset >= page.total || !page.items.length) more.remove();
      return page;
    }
    more.addEventListener('click', async () => {
      const first = await busy(more, next, 'Caricamento…');
      const focusable = container.children[container.children.length - first.items.length];
      if (focusable) (focusable.querySelector('a, button') || focusable).focus();
    });
    const page = await next();
    if (!page.total) {
      fill(box, empty());
      return page;
    }
    fill(box, container, offset < page.total ? more : null);
    return page;
  }

  async function loadCodes() {
    try {
      await pagedList(validBox, { valid: true }, codeCard, h('div', { class: 'qr-sheet' }), () => emptyState(
        'Nessun codice QR valido',
        'Scegli qui sotto un\'attività o un abbinamento e premi «Genera il codice QR»: il codice comparirà qui, pronto da stampare e appendere all\'ingresso.'));
    } catch (error) {
      fill(validBox, errorBox(error, { retry: loadCodes }));
      return;
    }
    try {
      const details = h('details', { class: 'data-table' });
      const list = h('ul', { class: 'rules' });
      const summary = h('summary', { text: 'Codici scaduti o revocati' });
      const page = await pagedList(staleBox, { valid: false }, staleItem, list, () => null);
      if (page.total) {
        summary.textContent = `Codici scaduti o revocati (${page.total})`;
        details.append(summary, ...staleBox.childNodes);
        fill(staleBox, details);
      }
    } catch (error) {
      fill(staleBox, errorBox(error, { retry: loadCodes }));
    }
  }

  async function revoke(code) {
    const ok = await confirmDialog('Revocare il codice QR?',
      `Con il codice per «${code.title}» non si potrà più registrare la presenza, anche se è già stampato e appeso. Le presenze già aperte si possono ancora chiudere. Non si può annullare: servirà un codice nuovo.`,
      { confirmText: 'Revoca il codice', danger: true });
    if (!ok) return;
    try {
      await api(`/api/checkin/codes/${code.id}/revoke`, { method: 'POST' });
      flash(`Codice QR per «${code.title}» revocato.`);
    } catch (error) {
      flash(error.message || 'Non è stato possibile revocare il codice.', 'error');
    }
    await loadCodes();
    codesBox.querySelector('#codes-title').focus();
  }

  async function showCode(code) {
    await loadCodes();
    flash(`Codice QR pronto per «${code.title}». Stampalo e appendilo all'ingresso.`);
    let card = validBox.querySelector(`[data-code-id="${code.id}"]`);
    const sheet = validBox.querySelector('.qr-sheet');
    if (!card && sheet) { // beyond the first page: show it on top anyway
      card = codeCard(code);
      sheet.prepend(card);
    }
    if (card) {
      card.scrollIntoView({ block: 'nearest' });
      card.querySelector('a, button').focus();
    }
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
      const [accepted, active, caseCodes] = await Promise.all([
        api('/api/matches', { query: { status: 'accepted', limit: 100 } }),
        api('/api/matches', { query: { status: 'active', limit: 100 } }),
        planCaseCodes(session, apiAll),
      ]);
      const items = [...active.items, ...accepted.items];
      if (!items.length) {
        fill(matchesBox, emptyState('Nessun abbinamento in corso', 'Quando accetti una proposta, qui puoi generare il codice QR con cui i volontari registrano le presenze per quel progetto.'));
        return;
      }
      fill(matchesBox, h('ul', { class: 'rules' }, items.map((m) => {
        const s = needSummary(m.need, tax, names);
        // Two matches of the same resource differ by plan, need and period: all shown.
        const which = matchDistinction(m, tax, names, caseCodes);
        return h('li', { class: 'match-row' },
          h('div', null, h('strong', { text: m.resource_title }), ' ', matchBadge(m.status), h('div', { class: 'small muted match-which', text: which })),
          h('button', { type: 'button', class: 'btn btn-primary btn-small', 'aria-label': `Genera il codice QR per «${m.resource_title}» (${which})`, onclick: () => generate({ match_id: m.id }, `${m.resource_title} (${s.category})`) }, 'Genera il codice QR'));
      })));
    } catch (error) {
      fill(matchesBox, errorBox(error, { retry: loadMatches }));
    }
  }

  function newActivity() {
    const title = input('title', '', { maxlength: 200 });
    const starts = input('starts_on', italyTodayIso(), { type: 'date' });
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
  await Promise.all([loadCodes(), loadActivities(), loadMatches()]);
}
