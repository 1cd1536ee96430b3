import { api } from '../js/api.js';
import { h, clear, fill, responsive } from '../js/dom.js';
import { HOLDER_KINDS, SECTORS, AREAS, label } from '../js/i18n.js';
import { comuniText } from '../js/resource-bits.js';
import { comuneNames, comuni } from '../js/store.js';
import { announce, emptyState, errorBox, field, input, loading, pageHeader, select } from '../js/ui.js';

const PAGE = 25;

export default async function holders(root, { session, query, replaceQuery }) {
  const [comuneList, names] = await Promise.all([comuni(), comuneNames()]);
  const state = { q: query.q || '', kind: query.kind || '', sector: query.sector || '', comune: query.comune || '', offset: Number(query.offset) || 0 };
  const q = input('q', state.q, { type: 'search' });
  const kind = select('kind', Object.entries(HOLDER_KINDS), state.kind, { placeholder: 'Tutti i tipi' });
  const sector = select('sector', Object.entries(SECTORS), state.sector, { placeholder: 'Tutti i settori' });
  const comune = select('comune', comuneList.map((c) => [c.istat_code, c.name]), state.comune, { placeholder: 'Tutti i comuni' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Cerca enti' },
    h('div', { class: 'row' }, field('Nome', q), field('Tipo', kind), field('Settore', sector), field('Comune', comune),
      h('button', { type: 'submit', class: 'btn btn-primary', text: 'Cerca' })));
  const count = h('p', { class: 'muted', role: 'status' });
  const results = h('div');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    Object.assign(state, { q: q.value.trim(), kind: kind.value, sector: sector.value, comune: comune.value, offset: 0 });
    load();
  });

  async function load() {
    replaceQuery({ ...state, offset: state.offset || undefined });
    fill(results, loading());
    let page;
    try {
      page = await api('/api/holders', { query: { ...state, limit: PAGE } });
    } catch (error) {
      fill(results, errorBox(error, { retry: load }));
      return;
    }
    count.textContent = page.total === 1 ? '1 ente trovato' : `${page.total} enti trovati`;
    announce(count.textContent);
    clear(results);
    if (!page.items.length) {
      results.append(emptyState('Nessun ente trovato', state.q || state.kind || state.sector || state.comune ? 'Prova a togliere qualche filtro.' : 'Gli enti si registrano da soli con il loro account, oppure li registra l\'Ufficio di Piano.',
        session.role === 'udp_admin' ? h('a', { class: 'btn btn-primary', href: '#/enti/nuovo' }, 'Registra un ente') : null));
      return;
    }
    results.append(h('div', { class: 'table-wrap' }, responsive(h('table', null,
      h('caption', { class: 'sr-only', text: 'Enti della comunità' }),
      h('thead', null, h('tr', null, ['Nome', 'Tipo', 'Settore', 'Comuni', 'Aree'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, page.items.map((x) => h('tr', null,
        h('th', { scope: 'row' }, h('a', { href: `#/enti/${x.id}`, text: x.name })),
        h('td', { text: label(HOLDER_KINDS, x.kind) }),
        h('td', { text: label(SECTORS, x.sector) }),
        h('td', { text: comuniText(x.comuni, names) }),
        h('td', { text: x.areas.map((a) => label(AREAS, a)).join(', ') || '—' }))))))));
    if (page.total > PAGE) {
      const to = Math.min(state.offset + PAGE, page.total);
      results.append(h('nav', { class: 'pager', 'aria-label': 'Pagine' },
        h('button', { type: 'button', class: 'btn btn-secondary', disabled: state.offset === 0, onclick: () => { state.offset -= PAGE; load(); } }, '‹ Precedenti'),
        h('span', { text: `${state.offset + 1}–${to} di ${page.total}` }),
        h('button', { type: 'button', class: 'btn btn-secondary', disabled: to >= page.total, onclick: () => { state.offset += PAGE; load(); } }, 'Successivi ›')));
    }
  }

  root.append(pageHeader('Enti e realtà della comunità', {
    lead: 'Associazioni, cooperative, parrocchie, reti di vicinato, scuole, imprese e volontari che mettono a disposizione risorse.',
    actions: session.role === 'udp_admin' ? [h('a', { class: 'btn btn-primary', href: '#/enti/nuovo' }, '+ Registra un ente')] : null,
  }), form, count, results);
  await load();
}
