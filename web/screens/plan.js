import { api } from '../js/api.js';
import { h, fill } from '../js/dom.js';
import { AREAS, PLAN_STATUS, label } from '../js/i18n.js';
import {
  NEED_STATUS, PRIORITIES, explanation, matchBadge, needSummary, scoreText,
} from '../js/match-bits.js';
import { matchActions } from '../js/match-actions.js';
import { needForm, planForm } from '../js/plan-forms.js';
import { CONTRIBUTING, matchContributionDialog } from '../js/plan-contribution.js';
import { drawOutcomes } from './plan-outcomes.js';
import { comuneNames, comuni, taxonomy } from '../js/store.js';
import {
  announce, badge, busy, checkboxGroup, checkedValues, emptyState, errorBox, flash, fmt, loading, openDialog, optional,
  pageHeader, progress, showFormError,
} from '../js/ui.js';

export default async function planScreen(root, { params, session }) {
  const [tax, comuneList, names] = await Promise.all([taxonomy(), comuni(), comuneNames()]);
  let plan = await api(`/api/plans/${params.id}`);
  const header = h('div');
  const summary = h('section', { class: 'card', 'aria-labelledby': 'plan-facts' });
  const needsBox = h('div');
  const contributionsBox = h('div');
  const outcomesBox = h('div');
  let needChoices = []; // the needs a goal may be about, for the goal editor

  function drawHeader() {
    fill(header, pageHeader(`Piano ${plan.case_code}`, {
      crumbs: [['Piani', '#/piani'], [plan.case_code]],
      // A closed plan takes no new needs nor proposals (the API answers 409): no buttons for them.
      actions: [
        plan.status !== 'closed' ? h('button', { type: 'button', class: 'btn btn-primary', onclick: addNeed }, '+ Aggiungi un bisogno') : null,
        plan.status !== 'closed' ? h('button', { type: 'button', class: 'btn btn-secondary', onclick: runBatch }, 'Abbinamento automatico') : null,
        h('a', { class: 'btn btn-secondary', href: `#/piani/${plan.id}/stampa`, text: 'Versione da stampare' }),
      ].filter(Boolean),
    }));
  }

  function drawSummary() {
    fill(summary,
      h('div', { class: 'item-head' }, h('h2', { id: 'plan-facts', text: 'Il piano' }),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: editPlan }, 'Modifica il piano')),
      h('dl', { class: 'facts' },
        h('dt', { text: 'Stato' }), h('dd', null, badge(label(PLAN_STATUS, plan.status), plan.status === 'active' ? 'success' : 'neutral')),
        h('dt', { text: 'Comune' }), h('dd', { text: names[plan.comune] || plan.comune }),
        h('dt', { text: 'Destinatari' }), h('dd', { text: label(AREAS, plan.target_group) }),
        h('dt', { text: 'Periodo' }), h('dd', { text: `dal ${fmt.date(plan.start_date)}${plan.end_date ? ` al ${fmt.date(plan.end_date)}` : ''}` }),
        h('dt', { text: 'Assistente sociale' }), h('dd', { text: plan.owner_username }),
        session.role === 'udp_admin' ? [h('dt', { text: 'Condiviso con' }), h('dd', null,
          plan.shared_with.length ? `${plan.shared_with.length} ${plan.shared_with.length === 1 ? 'assistente sociale' : 'assistenti sociali'} ` : 'nessuno ',
          h('button', { type: 'button', class: 'link-button', onclick: share }, 'Condividi'))] : null,
        // The goals written before GAS goals existed, kept read-only (the section below has the GAS ones).
        plan.goals.length ? [h('dt', { text: 'Obiettivi precedenti' }), h('dd', null, h('ul', null, plan.goals.map((g) => h('li', { text: g }))))] : null,
        plan.notes ? [h('dt', { text: 'Note riservate' }), h('dd', { text: plan.notes })] : null));
  }

  async function share() {
    let workers;
    try {
      workers = (await api('/api/users')).filter((u) => u.role === 'social_worker' && u.active && u.id !== plan.owner_id);
    } catch (error) {
      flash(error.message, 'error');
      return;
    }
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Salva la condivisione' });
    const form = h('form', { novalidate: true },
      h('p', { class: 'small muted', text: 'Chi riceve il piano ne vede anche obiettivi e note riservate; ogni lettura resta registrata.' }),
      workers.length
        ? checkboxGroup('Assistenti sociali', 'shared_with', workers.map((u) => [u.id, u.username]), plan.shared_with.map(String))
        : h('p', { text: 'Non ci sono altri assistenti sociali attivi nell\'ambito.' }),
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        plan = await busy(submit, () => api(`/api/plans/${plan.id}/sharing`, { method: 'PUT', body: { shared_with: checkedValues(form, 'shared_with') } }));
        dialog.close();
        drawSummary();
        flash('Condivisione aggiornata.');
      } catch (error) {
        showFormError(form, error, { shared_with: 'Assistenti sociali' });
      }
    });
    const dialog = openDialog(`Condividi il piano ${plan.case_code}`, form);
    form.querySelector('input, button').focus();
  }

  function editPlan() {
    const dialog = openDialog(`Modifica il piano ${plan.case_code}`, planForm({
      current: plan,
      comuneList,
      socialWorkers: null,
      onSaved: (saved) => { plan = saved; dialog.close(); drawHeader(); drawSummary(); flash('Piano aggiornato.'); },
      onCancel: () => dialog.close(),
    }), { wide: true });
    dialog.querySelector('input').focus();
  }

  function addNeed() {
    const dialog = openDialog('Nuovo bisogno', needForm({
      plan, current: null, tax, comuneList,
      onSaved: async (need) => {
        dialog.close();
        flash('Bisogno aggiunto. Ora guarda i suggerimenti.');
        await loadNeeds(need.id);
      },
      onCancel: () => dialog.close(),
    }), { wide: true });
    dialog.querySelector('select').focus();
  }

  async function loadNeeds(openSuggestionsFor) {
    fill(needsBox, loading('Caricamento dei bisogni…'));
    let needs;
    let matches;
    try {
      [needs, matches] = await Promise.all([
        api(`/api/plans/${plan.id}/needs`),
        api('/api/matches', { query: { plan_id: plan.id, limit: 200 } }),
      ]);
    } catch (error) {
      fill(needsBox, errorBox(error, { retry: () => loadNeeds() }));
      return;
    }
    if (!needs.length) {
      fill(needsBox, emptyState('Questo piano non ha ancora bisogni', 'Aggiungi un bisogno (ad esempio «accompagnamento a visite mediche, 2 volte a settimana»): il registro suggerirà le risorse adatte, spiegando perché.',
        h('button', { type: 'button', class: 'btn btn-primary', onclick: addNeed }, 'Aggiungi un bisogno')));
      return;
    }
    needChoices = needs.map((n) => { const s = needSummary({ ...n, comune: n.comune || plan.comune }, tax, names); return { id: n.id, label: `${s.category} · ${s.quantity}` }; });
    const byNeed = {};
    for (const m of matches.items) (byNeed[m.need_id] ||= []).push(m);
    fill(needsBox, h('ul', { class: 'cards' }, needs.map((need) => needCard(need, byNeed[need.id] || [], need.id === openSuggestionsFor))));
  }

  function needCard(need, needMatches, openNow) {
    const s = needSummary({ ...need, comune: need.comune || plan.comune }, tax, names);
    const suggestionsBox = h('div', { class: 'suggestions', 'aria-live': 'polite' });
    const headingId = `need-${need.id}`;
    const toggle = h('button', { type: 'button', class: 'btn btn-primary btn-small', 'aria-expanded': 'false', 'aria-controls': `sugg-${need.id}` }, 'Mostra i suggerimenti');
    suggestionsBox.id = `sugg-${need.id}`;
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') === 'true';
      if (open) {
        fill(suggestionsBox);
        toggle.setAttribute('aria-expanded', 'false');
        toggle.textContent = 'Mostra i suggerimenti';
      } else {
        toggle.setAttribute('aria-expanded', 'true');
        toggle.textContent = 'Nascondi i suggerimenti';
        loadSuggestions(need, suggestionsBox, needMatches);
      }
    });
    const live = needMatches.filter((m) => !['declined', 'withdrawn'].includes(m.status));
    const card = h('li', { class: 'item-card', 'aria-labelledby': headingId },
      h('div', { class: 'item-head' },
        h('h3', { id: headingId, text: `${s.category} · ${s.quantity}` }),
        h('span', { class: 'actions' },
          badge(label(NEED_STATUS, need.status), need.status === 'open' ? 'warning' : need.status === 'matched' ? 'success' : 'neutral'),
          badge(`Priorità ${label(PRIORITIES, need.priority).toLowerCase()}`, need.priority >= 4 ? 'danger' : 'neutral'))),
      h('p', { class: 'meta', text: `${s.schedule} · ${s.comune} · ${s.period}` }),
      needMatches.length ? h('div', null,
        h('h4', { text: 'Abbinamenti' }),
        h('ul', { class: 'rules' }, needMatches.map((m) => h('li', null,
          h('div', null, h('strong', { text: m.resource_title }), h('div', { class: 'small muted', text: `${m.holder_name}${m.decline_reason ? ` · motivo: ${m.decline_reason}` : ''}` })),
          h('div', { class: 'actions' }, matchBadge(m.status), matchActions(m, 'plan', () => loadNeeds()),
            CONTRIBUTING.has(m.status) ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Registra un contributo di ${m.holder_name} per «${m.resource_title}»`, onclick: () => matchContributionDialog(m, async () => { flash('Contributo registrato: confermalo quando l\'hai verificato.'); await loadContributions(); }) }, 'Registra un contributo') : null))))) : null,
      plan.status !== 'closed' ? h('div', { class: 'actions' }, toggle,
        need.status === 'open' && !live.length ? h('span', { class: 'small muted', text: 'Nessuna risorsa ancora proposta.' }) : null) : null,
      suggestionsBox);
    if (openNow) setTimeout(() => toggle.click());
    return card;
  }

  async function loadSuggestions(need, box, needMatches) {
    fill(box, loading('Calcolo dei suggerimenti…'));
    let answer;
    try {
      answer = await api(`/api/plans/${plan.id}/needs/${need.id}/suggestions`, { query: { limit: 10 } });
    } catch (error) {
      fill(box, errorBox(error, { retry: () => loadSuggestions(need, box, needMatches) }));
      return;
    }
    const proposed = new Set(needMatches.filter((m) => !['declined', 'withdrawn'].includes(m.status)).map((m) => m.resource_id));
    const proposeButton = (s, text) => {
      const button = h('button', { type: 'button', class: `btn ${s.rank ? 'btn-primary' : 'btn-secondary'} btn-small`, disabled: proposed.has(s.resource_id), 'aria-label': `${text} «${s.resource_title}»` },
        proposed.has(s.resource_id) ? 'Già proposta' : text);
      button.addEventListener('click', async () => {
        try {
          await busy(button, () => api('/api/matches', { method: 'POST', body: { need_id: need.id, resource_id: s.resource_id } }), 'Invio…');
          flash(`Proposta inviata a ${s.holder_name}: riceverà la richiesta e potrà accettarla.`);
          await loadNeeds();
        } catch (error) {
          flash(error.message, 'error');
        }
      });
      return button;
    };
    const meta = (s) => h('p', { class: 'meta', text: `${s.holder_name} · ${tax.byCode[s.category_code]?.name ?? s.category_code} · ancora disponibili: ${s.remaining_capacity}` });
    const warning = (s) => (s.warning ? h('p', { class: 'notice notice-warning small', text: s.warning }) : null);
    // What nearly fits, apart from the ranking and marked as such: never mixed with the suggestions.
    const nearMisses = answer.near_misses?.length ? h('section', { class: 'near-misses', 'aria-labelledby': `near-${need.id}` },
      h('h4', { id: `near-${need.id}`, text: 'Quasi adatte' }),
      h('p', { class: 'small muted', text: 'Non rispettano uno dei criteri del bisogno: valuta tu se possono andare bene lo stesso.' }),
      h('ul', { class: 'cards' }, answer.near_misses.map((m) => h('li', { class: 'item-card near-miss' },
        h('div', { class: 'item-head' },
          h('h5', null, h('a', { href: `#/risorse/${m.resource_id}`, text: m.resource_title })),
          badge('Quasi adatta', 'warning')),
        h('p', null, h('strong', { text: 'Cosa cambia: ' }), m.difference.reason),
        meta(m),
        warning(m),
        h('details', null, h('summary', { text: 'Dettagli del punteggio' }), explanation(m.components, m.explanation)),
        h('div', { class: 'actions', style: { marginTop: '.5rem' } }, proposeButton(m, 'Proponi comunque')))))) : null;
    if (!answer.suggestions.length) {
      fill(box, emptyState('Nessuna risorsa adatta, per ora', answer.note || 'Prova ad allargare gli orari o il comune del bisogno; quando un ente aggiunge disponibilità compatibile riceverai una notifica.'), nearMisses);
      announce(nearMisses ? `Nessun suggerimento; ${answer.near_misses.length} risorse quasi adatte.` : 'Nessun suggerimento.');
      return;
    }
    announce(`${answer.suggestions.length} suggerimenti su ${answer.resources_considered} risorse considerate.`);
    fill(box,
      h('p', { class: 'small muted', text: `${answer.suggestions.length === 1 ? '1 risorsa adatta' : `${answer.suggestions.length} risorse in ordine di adeguatezza`}, su ${answer.resources_considered} considerate.` }),
      h('ol', { class: 'cards' }, answer.suggestions.map((s) => h('li', { class: 'item-card suggestion' },
        h('div', { class: 'item-head' },
          h('h4', null, `${s.rank}. `, h('a', { href: `#/risorse/${s.resource_id}`, text: s.resource_title })),
          h('span', { class: 'score', text: `Punteggio ${scoreText(s.score)}` })),
        meta(s),
        warning(s),
        h('details', null, h('summary', { text: 'Perché questa risorsa' }), explanation(s.components, s.explanation)),
        h('div', { class: 'actions', style: { marginTop: '.5rem' } }, proposeButton(s, 'Proponi'))))),
      nearMisses);
  }

  async function runBatch(event) {
    const button = event.currentTarget;
    const area = h('div');
    const dialog = openDialog('Abbinamento automatico del piano', area, { wide: true });
    const bar = progress(area, 'Calcolo dell\'abbinamento migliore per tutti i bisogni aperti…');
    let run;
    try {
      run = await busy(button, () => api('/api/matching/runs', { method: 'POST', body: { plan_id: plan.id } }));
    } catch (error) {
      bar.done();
      area.append(errorBox(error));
      return;
    }
    bar.done();
    area.append(runResult(run, names, tax, async () => { dialog.close(); await loadNeeds(); }));
  }

  async function loadContributions() {
    const page = await optional(api('/api/contributions', { query: { plan_id: plan.id, limit: 100 } }));
    if (!page) { contributionsBox.remove(); return; }
    const { contributionsTable } = await import('../js/contribution-bits.js');
    fill(contributionsBox, h('section', { 'aria-labelledby': 'plan-contrib' },
      h('h2', { id: 'plan-contrib', text: 'Contributi per questo piano' }),
      contributionsTable(page, { onChange: loadContributions, canAmend: () => session.role === 'udp_admin' })));
  }

  drawHeader();
  drawSummary();
  root.append(header, h('div', { class: 'grid-2' },
    h('section', { 'aria-labelledby': 'needs-title' }, h('h2', { id: 'needs-title', text: 'Bisogni' }), needsBox),
    h('div', null, summary)), outcomesBox, contributionsBox);
  await loadNeeds();
  drawOutcomes(outcomesBox, {
    get plan() { return plan; },
    get needs() { return needChoices; },
    canWrite: session.role === 'social_worker',
    // A closure also ends the plan's open matches: the needs are drawn again with them.
    onPlanChanged: async () => { plan = await api(`/api/plans/${plan.id}`); drawHeader(); drawSummary(); await loadNeeds(); },
  });
  loadContributions().catch((error) => fill(contributionsBox, errorBox(error)));
}

/** The result of a batch matching run: pairs to tick and propose, and what stayed unassigned. */
export function runResult(run, names, tax, onProposed) {
  const box = h('div');
  const open = run.pairs.filter((p) => !p.match_id);
  box.append(h('p', { text: `Considerati ${run.needs_considered} bisogni e ${run.resources_considered} risorse; ${run.pairs.length} abbinamenti suggeriti in ${fmt.number(run.duration_ms / 1000)} s. Niente è stato ancora proposto: scegli tu.` }));
  if (!run.pairs.length) {
    box.append(emptyState('Nessun abbinamento possibile', 'Nessun bisogno aperto ha risorse compatibili in questo momento.'));
  } else {
    const list = h('ul', { class: 'rules' }, run.pairs.map((p) => h('li', null,
      h('div', { class: 'check' },
        h('input', { type: 'checkbox', id: `pair-${p.id}`, value: p.id, checked: !p.match_id, disabled: Boolean(p.match_id) }),
        h('label', { for: `pair-${p.id}` }, h('strong', { text: p.resource_title }), ` — ${p.holder_name}`, p.match_id ? ' (già proposto)' : '')),
      h('span', { class: 'score', text: scoreText(p.score) }))));
    const propose = h('button', { type: 'button', class: 'btn btn-primary', disabled: !open.length }, 'Proponi gli abbinamenti selezionati');
    propose.addEventListener('click', async () => {
      const ids = [...list.querySelectorAll('input:checked:not(:disabled)')].map((el) => el.value);
      if (!ids.length) { flash('Seleziona almeno un abbinamento.', 'warning'); return; }
      try {
        const created = await busy(propose, () => api(`/api/matching/runs/${run.id}/propose`, { method: 'POST', body: { pair_ids: ids } }), 'Invio…');
        flash(`${created.length} proposte inviate agli enti.`);
        await onProposed();
      } catch (error) {
        box.prepend(errorBox(error));
      }
    });
    box.append(list, h('div', { class: 'actions', style: { marginTop: '1rem' } }, propose));
  }
  if (run.unassigned.length) {
    box.append(h('h3', { text: 'Bisogni rimasti senza risorsa' }),
      h('ul', null, run.unassigned.map((u) => h('li', { text: u.reason }))));
  }
  return box;
}
