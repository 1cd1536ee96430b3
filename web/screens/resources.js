import { api } from '../js/api.js';
import { h, clear, fill } from '../js/dom.js';
import { AREAS, RESOURCE_STATUS, label } from '../js/i18n.js';
import {
  canEdit, capacityText, categorySelect, comuniText, confirmButton, freshnessBadge,
} from '../js/resource-bits.js';
import { comuneNames, comuni, taxonomy } from '../js/store.js';
import { announce, emptyState, errorBox, field, input, loading, pageHeader, select } from '../js/ui.js';

const PAGE = 20;

export default async function resources(root, { session, user, query, replaceQuery }) {
  const mine = session.role === 'holder_manager' && user.holder_id && query.tutte !== '1';
  const [tax, comuneList, names] = await Promise.all([taxonomy(), comuni(), comuneNames()]);
  const editor = session.role === 'udp_admin' || (session.role === 'holder_manager' && user.holder_id);

  const state = {
    q: query.q || '', category: query.category || '', comune: query.comune || '',
    target_group: query.target_group || '', status: query.status || '', offset: Number(query.offset) || 0,
  };

  const q = input('q', state.q, { type: 'search', placeholder: 'es. trasporto, doposcuola' });
  const category = categorySelect(tax, state.category, { name: 'category', placeholder: 'Tutte le categorie' });
  const comune = select('comune', comuneList.map((c) => [c.istat_code, c.name]), state.comune, { placeholder: 'Tutti i comuni' });
  const group = select('target_group', Object.entries(AREAS), state.target_group, { placeholder: 'Tutti i destinatari' });
  const status = select('status', Object.entries(RESOURCE_STATUS).filter(([k]) => k !== 'archived'), state.status, { placeholder: 'Tutte tranne archiviate' });
  // On a phone the extra filters fold away; they open by themselves when one is in use.
  const anyFilter = Boolean(state.category || state.comune || state.target_group || state.status);
  const more = h('details', { class: 'more-filters', open: anyFilter || window.matchMedia('(min-width: 761px)').matches },
    h('summary', { text: 'Altri filtri' }),
    h('div', { class: 'row' },
      field('Categoria', category),
      field('Comune', comune),
      field('Destinatari', group),
      field('Stato', status)));
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Cerca risorse' },
    h('div', { class: 'row' }, field('Cerca per parola', q)),
    more,
    h('div', { class: 'actions', style: { marginTop: '.75rem' } },
      h('button', { type: 'submit', class: 'btn btn-primary', text: 'Cerca' }),
      h('button', { type: 'reset', class: 'btn btn-secondary', text: 'Azzera i filtri' })));

  const results = h('div', { 'aria-live': 'off' });
  const count = h('p', { class: 'muted', role: 'status' });

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    Object.assign(state, { q: q.value.trim(), category: category.value, comune: comune.value, target_group: group.value, status: status.value, offset: 0 });
    load();
  });
  filters.addEventListener('reset', () => {
    setTimeout(() => {
      Object.assign(state, { q: '', category: '', comune: '', target_group: '', status: '', offset: 0 });
      load();
    });
  });

  async function load() {
    replaceQuery({ ...state, offset: state.offset || undefined, tutte: query.tutte });
    fill(results, loading('Ricerca in corso…'));
    let page;
    try {
      page = await api('/api/resources', {
        query: {
          q: state.q, category: state.category, comune: state.comune, target_group: state.target_group,
          status: state.status, holder_id: mine ? user.holder_id : undefined, limit: PAGE, offset: state.offset,
        },
      });
    } catch (error) {
      fill(results, errorBox(error, { retry: load }));
      return;
    }
    const text = page.total === 1 ? '1 risorsa trovata' : `${page.total} risorse trovate`;
    count.textContent = text;
    announce(text);
    clear(results);
    if (!page.items.length) {
      const filtered = state.q || state.category || state.comune || state.target_group || state.status;
      results.append(filtered
        ? emptyState('Nessuna risorsa corrisponde ai filtri', 'Prova a togliere qualche filtro o a cercare una parola più generica.')
        : mine
          ? emptyState('La tua organizzazione non ha ancora risorse', 'Aggiungi ciò che potete offrire alla comunità: tempo e competenze, spazi, beni, servizi.', h('a', { class: 'btn btn-primary', href: '#/risorse/nuova' }, 'Aggiungi una risorsa'))
          : emptyState('Nel registro non ci sono ancora risorse', 'Le risorse vengono inserite dagli enti e dai volontari della comunità.'));
      return;
    }
    results.append(h('ul', { class: 'cards' }, page.items.map((resource) => card(resource))));
    if (page.total > PAGE) {
      const from = state.offset + 1;
      const to = Math.min(state.offset + PAGE, page.total);
      results.append(h('nav', { class: 'pager', 'aria-label': 'Pagine dei risultati' },
        h('button', { type: 'button', class: 'btn btn-secondary', disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load(); } }, '‹ Precedenti'),
        h('span', { text: `${from}–${to} di ${page.total}` }),
        h('button', { type: 'button', class: 'btn btn-secondary', disabled: to >= page.total, onclick: () => { state.offset += PAGE; load(); } }, 'Successive ›')));
    }
  }

  function card(resource) {
    const item = h('li', { class: 'item-card' });
    const draw = (r) => {
      fill(item, 
        h('div', { class: 'item-head' },
          h('h2', null, h('a', { href: `#/risorse/${r.id}`, text: r.title })),
          freshnessBadge(r)),
        h('p', { class: 'meta', text: `${r.holder_name} · ${tax.byCode[r.category_code]?.name ?? r.category_code} · ${capacityText(r)}` }),
        h('p', { class: 'small', text: `Comuni: ${comuniText(r.comuni, names)}` }),
        r.status !== 'active' ? h('p', { class: 'small' }, 'Stato: ', h('strong', { text: label(RESOURCE_STATUS, r.status) })) : null,
        canEdit(session, user, r) ? h('div', { class: 'actions' },
          confirmButton(r, (updated) => draw(updated), { compact: true }),
          h('a', { class: 'btn btn-secondary btn-small', href: `#/risorse/${r.id}`, 'aria-label': `Orari di «${r.title}»` }, 'Orari'),
          h('a', { class: 'btn btn-secondary btn-small', href: `#/risorse/${r.id}/modifica`, 'aria-label': `Modifica «${r.title}»` }, 'Modifica')) : null);
    };
    draw(resource);
    return item;
  }

  const title = mine ? 'Le mie risorse' : 'Risorse della comunità';
  const actions = [];
  if (editor) actions.push(h('a', { class: 'btn btn-primary', href: '#/risorse/nuova' }, '+ Nuova risorsa'));
  if (session.role === 'holder_manager' && user.holder_id) {
    actions.push(mine
      ? h('a', { class: 'btn btn-secondary', href: '#/risorse?tutte=1' }, 'Vedi tutto il registro')
      : h('a', { class: 'btn btn-secondary', href: '#/risorse' }, 'Solo le mie risorse'));
  }
  if (!mine) actions.push(h('a', { class: 'btn btn-secondary', href: '#/mappa' }, 'Vedi sulla mappa'));
  root.append(
    pageHeader(title, {
      lead: mine
        ? 'Tieni aggiornati gli orari: una conferma con un clic dice a chi cerca che l\'offerta è ancora valida.'
        : 'Tempo, spazi, beni, servizi e relazioni che la comunità mette a disposizione nell\'ambito.',
      actions,
    }),
    filters, count, results);
  await load();
}
