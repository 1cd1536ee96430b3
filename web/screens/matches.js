import { api, apiAll } from '../js/api.js';
import { h, fill } from '../js/dom.js';
import { explanation, matchBadge, matchDistinction, needFacts, planCaseCodes, scoreText } from '../js/match-bits.js';
import { historyButton, matchActions } from '../js/match-actions.js';
import { count } from '../js/i18n.js';
import { comuneNames, taxonomy } from '../js/store.js';
import {
  announce, busy, emptyState, errorBox, fmt, loading, openDialog, pageHeader, progress,
} from '../js/ui.js';
import { runResult } from './plan.js';

const PAGE = 20;

export default async function matches(root, { session, query, replaceQuery }) {
  const holderSide = session.role === 'holder_manager';
  const [tax, names, caseCodes] = await Promise.all([taxonomy(), comuneNames(), planCaseCodes(session, apiAll)]);
  const tabs = holderSide
    ? [['proposed', 'Da valutare'], ['accepted', 'Accettate'], ['active', 'In corso'], ['', 'Tutte']]
    : [['accepted', 'Da confermare'], ['proposed', 'In attesa dell\'ente'], ['active', 'In corso'], ['', 'Tutte']];
  const state = { status: query.status ?? tabs[0][0], offset: 0 };
  // The tabs' panel is always there (empty states included), so aria-controls never dangles.
  const list = h('div', { id: 'match-list', role: 'tabpanel' });
  const tabBar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Filtra per stato' });

  function drawTabs() {
    list.setAttribute('aria-labelledby', `match-tab-${state.status || 'all'}`);
    fill(tabBar, tabs.map(([value, text]) => h('button', {
      id: `match-tab-${value || 'all'}`, type: 'button', role: 'tab', class: 'tab', 'aria-selected': String(state.status === value), 'aria-controls': 'match-list',
      tabindex: state.status === value ? '0' : '-1',
      onclick: () => { state.status = value; state.offset = 0; drawTabs(); load(); },
      onkeydown: (event) => {
        const buttons = [...tabBar.querySelectorAll('[role=tab]')];
        const index = buttons.indexOf(event.currentTarget);
        const next = event.key === 'ArrowRight' ? buttons[(index + 1) % buttons.length] : event.key === 'ArrowLeft' ? buttons[(index - 1 + buttons.length) % buttons.length] : null;
        if (next) { next.focus(); next.click(); tabBar.querySelector('[aria-selected=true]')?.focus(); }
      },
    }, text)));
  }

  async function load() {
    replaceQuery({ status: state.status });
    fill(list, loading());
    let page;
    try {
      page = await api('/api/matches', { query: { status: state.status, limit: PAGE, offset: state.offset } });
    } catch (error) {
      fill(list, errorBox(error, { retry: load }));
      return;
    }
    announce(count(page.total, 'abbinamento', 'abbinamenti'));
    if (!page.items.length) {
      fill(list, holderSide
        ? emptyState(state.status === 'proposed' ? 'Nessuna proposta da valutare' : 'Nessun abbinamento in questo stato', 'Quando un assistente sociale propone una delle vostre risorse per un bisogno, la proposta arriva qui. Tenere aggiornati gli orari aiuta a ricevere proposte adatte.', h('a', { class: 'btn btn-secondary', href: '#/risorse' }, 'Controlla le tue risorse'))
        : emptyState('Nessun abbinamento in questo stato', 'Dai piani personalizzati puoi chiedere i suggerimenti per ciascun bisogno e proporre una risorsa.', h('a', { class: 'btn btn-secondary', href: '#/piani' }, 'Vai ai piani')));
      return;
    }
    fill(list, h('ul', { class: 'cards' }, page.items.map((m) => h('li', { class: 'item-card' },
      h('div', { class: 'item-head' },
        h('h2', null, h('a', { href: `#/risorse/${m.resource_id}`, text: m.resource_title })),
        matchBadge(m.status)),
      h('p', { class: 'meta match-which', text: matchDistinction(m, tax, names, caseCodes) }),
      h('p', { class: 'meta', text: `${holderSide ? '' : `${m.holder_name} · `}proposta ${fmt.daysAgo(m.created_at)}${m.score !== null ? ` · punteggio ${scoreText(m.score)}` : ''}` }),
      !holderSide && m.plan_id ? h('p', null, h('a', { href: `#/piani/${m.plan_id}`, text: caseCodes[m.plan_id] ? `Apri il piano ${caseCodes[m.plan_id]}` : 'Apri il piano' })) : null,
      h('div', { class: 'grid-even' },
        h('div', null, h('h3', { text: 'Il bisogno' }), needFacts(m.need, tax, names)),
        m.components.length || m.explanation ? h('div', null, h('h3', { text: 'Perché è stata proposta' }), explanation(m.components, m.explanation)) : h('div')),
      m.warning ? h('p', { class: 'notice notice-warning', text: m.warning }) : null,
      m.decline_reason ? h('p', { class: 'small' }, 'Motivo: ', h('em', { text: m.decline_reason })) : null,
      h('div', { class: 'actions', style: { marginTop: '.5rem' } }, matchActions(m, holderSide ? 'holder' : 'plan', load), historyButton(m))))),
    page.total > PAGE ? h('nav', { class: 'pager', 'aria-label': 'Pagine' },
      h('button', { type: 'button', class: 'btn btn-secondary', disabled: state.offset === 0, onclick: () => { state.offset -= PAGE; load(); } }, '‹ Precedenti'),
      h('span', { text: `${state.offset + 1}–${Math.min(state.offset + PAGE, page.total)} di ${page.total}` }),
      h('button', { type: 'button', class: 'btn btn-secondary', disabled: state.offset + PAGE >= page.total, onclick: () => { state.offset += PAGE; load(); } }, 'Successivi ›')) : null);
  }

  async function batch(event) {
    const button = event.currentTarget;
    const area = h('div');
    const dialog = openDialog('Abbinamento automatico dell\'ambito', area, { wide: true });
    const bar = progress(area, 'Calcolo dell\'allocazione migliore di tutti i bisogni aperti dell\'ambito… può richiedere qualche secondo.');
    try {
      const run = await busy(button, () => api('/api/matching/runs', { method: 'POST', body: {} }));
      bar.done();
      area.append(runResult(run, names, tax, async () => { dialog.close(); await load(); }));
    } catch (error) {
      bar.done();
      area.append(errorBox(error));
    }
  }

  drawTabs();
  root.append(pageHeader(holderSide ? 'Proposte di abbinamento' : 'Abbinamenti', {
    lead: holderSide
      ? 'Un assistente sociale chiede una vostra risorsa per un bisogno. Non vedete chi è la persona: solo cosa serve, dove e quando. Accettando riservate un posto.'
      : 'Le proposte inviate agli enti e il loro stato. Un abbinamento accettato dall\'ente parte quando lo confermi.',
    actions: holderSide ? null : [h('button', { type: 'button', class: 'btn btn-secondary', onclick: batch }, 'Abbinamento automatico dell\'ambito')],
  }), tabBar, list);
  await load();
}
