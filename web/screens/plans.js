import { api } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import { AREAS, PLAN_STATUS, label } from '../js/i18n.js';
import { comuneNames, comuni } from '../js/store.js';
import { announce, badge, emptyState, errorBox, field, fmt, input, loading, pageHeader, select } from '../js/ui.js';

const PAGE = 25;
const STATUS = { draft: 'Bozza', active: 'Attivo', suspended: 'Sospeso', closed: 'Chiuso' };

/** The plan's next review: a red «Verifica in ritardo» (the words of the plan screen and of
 * the overdue notification) with the date it was due, the date, or «da fissare»; closed
 * plans have none. */
function nextReview(row, status) {
  if (status === 'closed' || !row) return h('td', { text: '—' });
  if (!row.next_review_on) return h('td', { class: 'muted', text: 'da fissare' });
  if (row.overdue) return h('td', null, badge('Verifica in ritardo', 'danger'), ' ', h('span', { class: 'small', text: `prevista per il ${fmt.date(row.next_review_on)}` }));
  return h('td', { text: fmt.date(row.next_review_on) });
}

export default async function plans(root, { session, query, replaceQuery }) {
  const [comuneList, names] = await Promise.all([comuni(), comuneNames()]);
  const state = { q: query.q || '', status: query.status || '', comune: query.comune || '', offset: Number(query.offset) || 0 };
  const q = input('q', state.q, { type: 'search', placeholder: 'es. ASC-2026', maxlength: 32 });
  const status = select('status', Object.entries(STATUS), state.status, { placeholder: 'Tutti' });
  const comune = select('comune', comuneList.map((c) => [c.istat_code, c.name]), state.comune, { placeholder: 'Tutti i comuni' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Cerca piani' },
    h('div', { class: 'row' }, field('Codice del caso (inizio)', q), field('Stato', status), field('Comune', comune),
      h('button', { type: 'submit', class: 'btn btn-primary', text: 'Cerca' })));
  const count = h('p', { class: 'muted', role: 'status' });
  const results = h('div');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    Object.assign(state, { q: q.value.trim(), status: status.value, comune: comune.value, offset: 0 });
    load();
  });

  async function load() {
    replaceQuery({ ...state, offset: state.offset || undefined });
    fill(results, loading());
    let page;
    let reviews;
    try {
      // The review schedule covers every open plan the caller sees: one request, joined here.
      [page, reviews] = await Promise.all([
        api('/api/plans', { query: { ...state, limit: PAGE } }),
        api('/api/plans/review-schedule').catch(() => null),
      ]);
    } catch (error) {
      fill(results, errorBox(error, { retry: load }));
      return;
    }
    const due = new Map((reviews || []).map((r) => [r.plan_id, r]));
    const overdue = (reviews || []).filter((r) => r.overdue).length;
    count.textContent = (page.total === 1 ? '1 piano' : `${page.total} piani`)
      + (overdue ? ` · ${overdue === 1 ? '1 piano ha' : `${overdue} piani hanno`} la verifica in ritardo` : '');
    announce(count.textContent);
    if (!page.items.length) {
      fill(results, state.q || state.status || state.comune
        ? emptyState('Nessun piano corrisponde ai filtri', 'Prova a togliere qualche filtro.')
        : emptyState('Non hai ancora piani personalizzati', 'Un piano raccoglie i bisogni di una persona o di una famiglia (con un codice, mai il nome): il registro suggerisce le risorse della comunità per ciascun bisogno.',
          h('a', { class: 'btn btn-primary', href: '#/piani/nuovo' }, 'Crea il primo piano')));
      return;
    }
    fill(results, h('div', { class: 'table-wrap' }, responsive(h('table', null,
      h('caption', { class: 'sr-only', text: 'Piani personalizzati' }),
      h('thead', null, h('tr', null, ['Codice', 'Comune', 'Destinatari', 'Periodo', 'Stato', reviews ? 'Prossima verifica' : null, session.role === 'udp_admin' ? 'Assistente sociale' : null, 'Aggiornato'].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, page.items.map((p) => h('tr', null,
        h('th', { scope: 'row' }, h('a', { href: `#/piani/${p.id}`, text: p.case_code })),
        h('td', { text: names[p.comune] || p.comune }),
        h('td', { text: label(AREAS, p.target_group) }),
        h('td', { text: p.end_date ? `${fmt.date(p.start_date)} – ${fmt.date(p.end_date)}` : `dal ${fmt.date(p.start_date)}` }),
        h('td', null, badge(label(PLAN_STATUS, p.status), p.status === 'active' ? 'success' : 'neutral')),
        reviews ? nextReview(due.get(p.id), p.status) : null,
        session.role === 'udp_admin' ? h('td', { text: p.owner_username }) : null,
        h('td', { text: fmt.daysAgo(p.updated_at) }))))))),
    page.total > PAGE ? h('nav', { class: 'pager', 'aria-label': 'Pagine' },
      h('button', { type: 'button', class: 'btn btn-secondary', disabled: state.offset === 0, onclick: () => { state.offset -= PAGE; load(); } }, '‹ Precedenti'),
      h('span', { text: `${state.offset + 1}–${Math.min(state.offset + PAGE, page.total)} di ${page.total}` }),
      h('button', { type: 'button', class: 'btn btn-secondary', disabled: state.offset + PAGE >= page.total, onclick: () => { state.offset += PAGE; load(); } }, 'Successivi ›')) : null);
  }

  root.append(pageHeader(session.role === 'udp_admin' ? 'Piani personalizzati dell\'ambito' : 'I miei piani personalizzati', {
    lead: 'Ogni piano è pseudonimo: si identifica con un codice del caso, mai con nome o codice fiscale.',
    actions: [h('a', { class: 'btn btn-primary', href: '#/piani/nuovo' }, '+ Nuovo piano')],
  }), form, count, results);
  await load();
}
