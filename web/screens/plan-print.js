// The plan on one A4 sheet for the meeting with the person and the family: the case code is
// the only identifier (plans never hold a name), and nothing private is printed (the plan's
// notes and the reviews' notes stay on screen).

import { api } from '../js/api.js';
import { h } from '../js/dom.js';
import { AREAS, MATCH_STATUS, PLAN_STATUS, label } from '../js/i18n.js';
import { NEED_STATUS, needSummary } from '../js/match-bits.js';
import { comuneNames, taxonomy } from '../js/store.js';
import { fmt } from '../js/ui.js';
import { loadOutcomes, printGoals, printOwnResources, printSplit } from './plan-outcomes.js';

export default async function planPrint(root, { params }) {
  const [tax, names, plan] = await Promise.all([taxonomy(), comuneNames(), api(`/api/plans/${params.id}`)]);
  const [needs, matches, outcomes] = await Promise.all([
    api(`/api/plans/${plan.id}/needs`),
    api('/api/matches', { query: { plan_id: plan.id, limit: 200 } }),
    loadOutcomes(plan.id),
  ]);
  const live = matches.items.filter((m) => !['declined', 'withdrawn'].includes(m.status));
  const byNeed = {};
  for (const m of live) (byNeed[m.need_id] ||= []).push(m);

  const printButton = h('button', { type: 'button', class: 'btn btn-primary', text: 'Stampa' });
  printButton.addEventListener('click', () => window.print());

  root.append(h('article', { class: 'print-sheet' },
    h('div', { class: 'actions no-print' }, printButton, h('a', { class: 'btn btn-secondary', href: `#/piani/${plan.id}`, text: 'Torna al piano' })),
    h('header', { class: 'print-head' },
      h('h1', { tabindex: '-1', text: `Piano personalizzato ${plan.case_code}` }),
      h('p', { class: 'small muted', text: `Documento per l'incontro con la persona e la famiglia · stampato il ${fmt.date(new Date())}. Il piano è identificato solo dal suo codice.` })),
    h('dl', { class: 'facts' },
      h('dt', { text: 'Stato' }), h('dd', { text: label(PLAN_STATUS, plan.status) }),
      h('dt', { text: 'Comune' }), h('dd', { text: names[plan.comune] || plan.comune }),
      h('dt', { text: 'Destinatari' }), h('dd', { text: label(AREAS, plan.target_group) }),
      h('dt', { text: 'Periodo' }), h('dd', { text: `dal ${fmt.date(plan.start_date)}${plan.end_date ? ` al ${fmt.date(plan.end_date)}` : ''}` }),
      outcomes?.closure
        ? [h('dt', { text: 'Chiusura' }), h('dd', { text: `il ${fmt.date(outcomes.closure.closed_on)}: ${outcomes.closure.reason_label}` })]
        : [h('dt', { text: 'Prossima verifica' }), h('dd', { text: outcomes?.nextReviewOn ? fmt.date(outcomes.nextReviewOn) : 'da fissare' })]),
    h('section', { 'aria-labelledby': 'print-goals' },
      h('h2', { id: 'print-goals', text: 'Obiettivi' }),
      outcomes?.goals?.length ? printGoals(outcomes)
        : plan.goals.length ? h('ul', null, plan.goals.map((g) => h('li', { text: g })))
          : h('p', { text: 'Nessun obiettivo ancora fissato.' })),
    h('section', { 'aria-labelledby': 'print-needs' },
      h('h2', { id: 'print-needs', text: 'Bisogni e risorse della comunità' }),
      needs.length ? h('table', { class: 'print-table' },
        h('thead', null, h('tr', null, ['Bisogno', 'Quanto e quando', 'Stato', 'Chi aiuta'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, needs.map((need) => {
          const s = needSummary({ ...need, comune: need.comune || plan.comune }, tax, names);
          const helpers = byNeed[need.id] || [];
          return h('tr', null,
            h('td', { text: s.category }),
            h('td', { text: `${s.quantity}; ${s.schedule}` }),
            h('td', { text: label(NEED_STATUS, need.status) }),
            h('td', null, helpers.length
              ? h('ul', { class: 'plain' }, helpers.map((m) => h('li', { text: `${m.resource_title} — ${m.holder_name} (${label(MATCH_STATUS, m.status).toLowerCase()})` })))
              : '—'));
        }))) : h('p', { text: 'Nessun bisogno registrato.' })),
    outcomes ? h('section', { 'aria-labelledby': 'print-own' },
      h('h2', { id: 'print-own', text: 'Le risorse della persona e della famiglia' }),
      printOwnResources(outcomes),
      printSplit(outcomes)) : null,
    h('section', { class: 'print-signatures', 'aria-label': 'Firme' },
      h('p', { text: 'Data dell\'incontro: ____________________' }),
      h('p', { text: 'Firma della persona o di chi la rappresenta: ______________________________' }),
      h('p', { text: 'Firma dell\'assistente sociale: ______________________________' }))));
}
