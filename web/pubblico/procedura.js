// The public page of a co-programming procedure (no login): notice, calendar, participating
// organisations, approved minutes, the summary document and the Piano objectives. The API it
// reads carries no personal data (organisations' names and counts of people only).
// /pubblico/?procedura=<id> shows one procedure; /pubblico/?ambito=<CODE> lists an ambito's.

import { api } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import { AREAS, HOLDER_KINDS, PROCEDURE_KINDS, PROCEDURE_STATUS, SECTORS, SESSION_KINDS, count, label } from '../js/i18n.js';
import { errorBox, fmt } from '../js/ui.js';
import { documentText } from '../screens/coprogramming-bits.js';

const main = document.getElementById('main');
const query = new URLSearchParams(window.location.search);


// Approved documents are downloadable without login (plain links: nothing secret in them).
function downloads(kind, id, name) {
  const link = (format, text) => h('a', { href: `/api/public/coprogramming/${kind}/${encodeURIComponent(id)}/document?format=${format}`, download: `${name}.${format}`, text, 'aria-label': `${text}: ${name}` });
  return h('p', { class: 'small' }, 'Scarica: ', link('pdf', 'PDF'), ' · ', link('odt', 'ODT'), ' · ', link('html', 'HTML'));
}

function title(text) {
  document.title = `${text} · Registro delle risorse di comunità`;
  return h('h1', { tabindex: '-1', text });
}

function procedurePage(p) {
  document.getElementById('ambito-name').textContent = p.ambito_name;
  const sessionOf = Object.fromEntries(p.sessions.map((s) => [s.id, s]));
  return [
    title(p.title),
    h('p', { class: 'lead', text: `${label(PROCEDURE_KINDS, p.kind)} · ${p.ambito_name}${p.piano_period ? ` · Piano di Zona ${p.piano_period}` : ''} · ${label(PROCEDURE_STATUS, p.status)}` }),
    p.description ? h('p', { text: p.description }) : null,
    h('section', { class: 'card', 'aria-labelledby': 'notice-title' },
      h('h2', { id: 'notice-title', text: 'Avviso pubblico' }),
      h('dl', { class: 'facts' },
        h('dt', { text: 'Pubblicato il' }), h('dd', { text: p.notice_published_on ? fmt.date(p.notice_published_on) : '—' }),
        h('dt', { text: 'Adesioni entro il' }), h('dd', { text: p.applications_close_on ? fmt.date(p.applications_close_on) : '—' }),
        p.notice_url ? [h('dt', { text: 'Testo ufficiale' }), h('dd', null, h('a', { href: p.notice_url, rel: 'noopener', text: p.notice_url }))] : null),
      p.notice_text ? h('details', null, h('summary', { text: 'Testo dell\'avviso' }), documentText(p.notice_text)) : null),
    h('section', { class: 'card', 'aria-labelledby': 'calendar-title' },
      h('h2', { id: 'calendar-title', text: 'Calendario delle sessioni' }),
      p.sessions.length
        ? h('div', { class: 'table-wrap' }, responsive(h('table', null,
          h('caption', { class: 'sr-only', text: 'Sessioni' }),
          h('thead', null, h('tr', null, ['N.', 'Sessione', 'Quando e dove', 'Tavoli di lavoro', 'Partecipazione'].map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', null, p.sessions.map((s) => h('tr', null,
            h('td', { class: 'num', text: String(s.number) }),
            h('th', { scope: 'row' }, s.title, h('div', { class: 'small muted', text: label(SESSION_KINDS, s.kind) + (s.theme ? ` · ${s.theme}` : '') })),
            h('td', null, fmt.dateTime(s.starts_at), s.place ? h('div', { class: 'small muted', text: s.place }) : null),
            h('td', null, s.tables.length ? h('ul', null, s.tables.map((t) => h('li', { text: `${t.theme} (${count(t.organisations, 'org.', 'org.')})` }))) : '—'),
            h('td', { text: `${count(s.organisations, 'organizzazione', 'organizzazioni')}, ${count(s.people, 'persona', 'persone')}` })))))))
        : h('p', { text: 'Il calendario non è ancora stato pubblicato.' })),
    h('section', { class: 'card', 'aria-labelledby': 'orgs-title' },
      h('h2', { id: 'orgs-title', text: `Organizzazioni partecipanti (${fmt.number(p.organisations.length)})` }),
      h('p', { class: 'small muted', text: `${count(p.people, 'persona iscritta', 'persone iscritte')}. Per settore: ${Object.entries(p.organisations_by_sector).map(([s, n]) => `${label(SECTORS, s)} ${fmt.number(n)}`).join(' · ') || '—'}.` }),
      p.organisations.length
        ? h('ul', { class: 'columns' }, p.organisations.map((o) => h('li', null, o.name, h('span', { class: 'small muted', text: ` · ${label(HOLDER_KINDS, o.kind)}, ${count(o.people, 'persona', 'persone')}` }))))
        : h('p', { text: 'Nessuna organizzazione ammessa finora.' })),
    h('section', { class: 'card', 'aria-labelledby': 'minutes-title' },
      h('h2', { id: 'minutes-title', text: 'Verbali approvati' }),
      p.minutes.length
        ? p.minutes.map((m) => h('details', { class: 'minutes' },
          h('summary', { text: `Sessione ${sessionOf[m.session_id]?.number ?? ''}: ${sessionOf[m.session_id]?.title ?? ''} · versione ${m.version}, approvato il ${fmt.date(m.approved_at)}` }),
          documentText(m.content),
          h('p', { class: 'small muted hash', text: `Impronta SHA-256 del testo approvato: ${m.content_hash}` }),
          downloads('minutes', m.id, `verbale-sessione-${sessionOf[m.session_id]?.number ?? ''}-v${m.version}`)))
        : h('p', { text: 'Nessun verbale approvato finora.' })),
    h('section', { class: 'card', 'aria-labelledby': 'summary-title' },
      h('h2', { id: 'summary-title', text: 'Documento istruttorio di sintesi' }),
      p.summary
        ? [h('p', { class: 'small muted hash', text: `Versione ${p.summary.version}, approvata il ${fmt.date(p.summary.approved_at)}. Impronta SHA-256: ${p.summary.content_hash}` }),
          downloads('summary', p.summary.id, `documento-di-sintesi-v${p.summary.version}`),
          h('details', null, h('summary', { text: 'Testo del documento' }), documentText(p.summary.content))]
        : h('p', { text: 'Il documento di sintesi non è ancora stato approvato.' })),
    h('section', { class: 'card', 'aria-labelledby': 'objectives-title' },
      h('h2', { id: 'objectives-title', text: 'Obiettivi del Piano di Zona' }),
      p.objectives.length
        ? h('ul', null, p.objectives.map((o) => h('li', null, h('strong', { text: `${o.code ? `${o.code} · ` : ''}${o.title}` }),
          o.area ? h('span', { class: 'small muted', text: ` (${label(AREAS, o.area)})` }) : null,
          o.description ? h('p', { class: 'small', text: o.description }) : null,
          o.sessions.length ? h('p', { class: 'small muted', text: `Emerso nelle sessioni ${o.sessions.join(', ')}` }) : null)))
        : h('p', { text: 'Nessun obiettivo ancora adottato.' })),
  ];
}

function listPage(code, items) {
  return [
    title('Co-programmazione e co-progettazione'),
    h('p', { class: 'lead', text: `I procedimenti pubblici dell'ambito ${code}.` }),
    items.length
      ? h('ul', null, items.map((p) => h('li', null, h('a', { href: `/pubblico/?procedura=${encodeURIComponent(p.id)}`, text: p.title }),
        h('span', { class: 'small muted', text: ` · ${label(PROCEDURE_KINDS, p.kind)} · ${label(PROCEDURE_STATUS, p.status)}${p.notice_published_on ? ` · avviso del ${fmt.date(p.notice_published_on)}` : ''}` }))))
      : h('p', { text: 'Nessun procedimento pubblicato.' }),
  ];
}

async function show() {
  const id = query.get('procedura');
  const code = query.get('ambito');
  try {
    if (id) {
      fill(main, procedurePage(await api(`/api/public/coprogramming/procedures/${encodeURIComponent(id)}`, { auth: false })));
    } else if (code) {
      fill(main, listPage(code, await api(`/api/public/coprogramming/ambiti/${encodeURIComponent(code)}/procedures`, { auth: false })));
    } else {
      fill(main, title('Co-programmazione e co-progettazione'), h('p', { text: 'Apri il collegamento a un procedimento pubblicato dal suo Ufficio di Piano.' }));
    }
  } catch (error) {
    const missing = error.status === 404;
    fill(main, title(missing ? 'Procedimento non trovato' : 'Si è verificato un problema'),
      missing ? h('p', { text: 'Il procedimento non esiste o non è ancora pubblico.' }) : errorBox(error, { retry: show }));
  }
}

show();
