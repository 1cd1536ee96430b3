// Co-programming and co-design procedures of the ambito (art. 55 CTS, issue 16). The UdP
// creates and runs them; a holder manager sees the published ones and applies for its holder.

import { api } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import { APPLICATION_STATUS, PROCEDURE_KINDS, count, label } from '../js/i18n.js';
import { ambito } from '../js/store.js';
import {
  badge, busy, emptyState, errorBox, field, flashNext, fmt, input, loading, openDialog, pageHeader, select, showFormError, textarea,
} from '../js/ui.js';
import { procedureBadge } from './coprogramming-bits.js';

export default async function coprogramming(root, { session, navigate }) {
  const udp = session.role === 'udp_admin';
  const list = h('div', null, loading());
  const current = await ambito().catch(() => ({ code: '' }));
  root.append(pageHeader('Co-programmazione e co-progettazione', {
    help: 'Un procedimento dell\'art. 55 del Codice del Terzo Settore: l\'avviso, le adesioni delle organizzazioni, le sessioni divise in tavoli, i verbali e il documento di sintesi. Aprilo per seguirlo passo per passo.',
    lead: udp
      ? 'I procedimenti dell\'art. 55 del Codice del Terzo Settore: avviso, calendario, adesioni, sessioni e tavoli, verbali, documento di sintesi e obiettivi del Piano di Zona.'
      : 'I procedimenti a cui la tua organizzazione può aderire: avviso, calendario delle sessioni e tavoli di lavoro.',
    actions: [
      udp ? h('button', { type: 'button', class: 'btn btn-primary', onclick: create }, 'Nuovo procedimento') : null,
      current.code ? h('a', { class: 'btn btn-secondary', href: `/pubblico/?ambito=${encodeURIComponent(current.code)}`, target: '_blank', rel: 'noopener', text: 'Pagina pubblica dei procedimenti' }) : null,
    ],
  }), list);

  async function load() {
    let procedures;
    let mine = {};
    try {
      procedures = await api('/api/coprogramming/procedures');
      if (session.role === 'holder_manager') {
        // One call per procedure is fine: an ambito runs a handful of them.
        const answers = await Promise.all(procedures.map((p) => api(`/api/coprogramming/procedures/${p.id}/applications`).catch(() => [])));
        mine = Object.fromEntries(procedures.map((p, i) => [p.id, answers[i][0] || null]));
      }
    } catch (error) {
      fill(list, errorBox(error, { retry: load }));
      return;
    }
    if (!procedures.length) {
      fill(list, emptyState('Nessun procedimento', udp
        ? 'Crea il primo procedimento di co-programmazione: poi pubblica l\'avviso e fissa il calendario delle sessioni.'
        : 'L\'Ufficio di Piano non ha ancora pubblicato avvisi di co-programmazione o co-progettazione.'));
      return;
    }
    fill(list, h('div', { class: 'table-wrap' }, responsive(h('table', null,
      h('caption', { class: 'sr-only', text: 'Procedimenti' }),
      h('thead', null, h('tr', null, ['Procedimento', 'Tipo', 'Stato', 'Avviso', 'Partecipazione', session.role === 'holder_manager' ? 'La tua adesione' : null]
        .filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, procedures.map((p) => h('tr', null,
        h('th', { scope: 'row' }, h('a', { href: `#/coprogrammazione/${p.id}`, text: p.title }), p.piano_period ? h('div', { class: 'small muted', text: `Piano di Zona ${p.piano_period}` }) : null),
        h('td', { text: label(PROCEDURE_KINDS, p.kind) }),
        h('td', null, procedureBadge(p.status)),
        h('td', null, p.notice_published_on ? `pubblicato il ${fmt.date(p.notice_published_on)}` : 'non pubblicato',
          p.applications_close_on ? h('div', { class: 'small muted', text: `adesioni entro il ${fmt.date(p.applications_close_on)}` }) : null),
        h('td', null, count(p.organisations, 'organizzazione', 'organizzazioni'), h('div', { class: 'small muted', text: `${count(p.people, 'persona', 'persone')} · ${count(p.sessions, 'sessione', 'sessioni')}` })),
        session.role === 'holder_manager'
          ? h('td', null, mine[p.id] ? badge(label(APPLICATION_STATUS, mine[p.id].status), mine[p.id].status === 'admitted' ? 'fresh' : 'neutral') : (p.status === 'open' ? h('a', { href: `#/coprogrammazione/${p.id}`, text: 'Aderisci' }) : '—'))
          : null)))))));
  }

  function create() {
    const form = h('form', { novalidate: true, class: 'stack' },
      field('Titolo', input('title', '', { maxlength: 300 }), { required: true, hint: 'Ad esempio: Co-programmazione del Piano di Zona 2025-2027' }),
      h('div', { class: 'row' },
        field('Tipo', select('kind', Object.entries(PROCEDURE_KINDS), 'coprogramming')),
        field('Periodo del Piano', input('piano_period', '', { maxlength: 32, placeholder: 'es. 2025-2027' }))),
      field('Testo dell\'avviso', textarea('notice_text', '', { rows: 5 })),
      field('Indirizzo dell\'avviso pubblicato', input('notice_url', '', { type: 'url', maxlength: 500 })),
      h('div', { class: 'row' },
        field('Avviso pubblicato il', input('notice_published_on', '', { type: 'date' })),
        field('Adesioni entro il', input('applications_close_on', '', { type: 'date' }))),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary', text: 'Crea il procedimento' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const body = {
        kind: d.get('kind'), title: d.get('title').trim(), notice_text: d.get('notice_text'), notice_url: d.get('notice_url').trim(),
        piano_period: d.get('piano_period').trim(), notice_published_on: d.get('notice_published_on') || null, applications_close_on: d.get('applications_close_on') || null,
      };
      try {
        const saved = await busy(form.querySelector('[type=submit]'), () => api('/api/coprogramming/procedures', { method: 'POST', body }));
        dialog.close();
        flashNext(`Procedimento «${saved.title}» creato.`);
        navigate(`/coprogrammazione/${saved.id}`);
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog('Nuovo procedimento', form, { wide: true });
  }

  await load();
}
