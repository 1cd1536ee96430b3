import { api, apiAll } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import {
  badge, busy, checkboxGroup, checkedValues, confirmDialog, emptyState, errorBox, field, flash,
  fmt, input, italyToday, italyTodayIso, loading, openDialog, pageHeader, select, showFormError,
  textarea,
} from '../js/ui.js';

const EURO2 = new Intl.NumberFormat('it-IT', { style: 'currency', currency: 'EUR', minimumFractionDigits: 2 });

const KINDS = {
  co_programming_table: 'Tavolo di co-programmazione (art. 55 CTS)',
  joint_project: 'Progetto comune',
  network_meeting: 'Incontro di rete',
  other: 'Altro',
};

export default async function settings(root) {
  const ratesBox = h('div');
  const interactionsBox = h('div');
  const holders = await apiAll('/api/holders');
  const holderName = Object.fromEntries(holders.map((x) => [x.id, x.name]));

  // --- hourly rates -------------------------------------------------------------------------
  async function loadRates() {
    fill(ratesBox, loading());
    let table;
    try {
      table = await api('/api/metrics/rates');
    } catch (error) {
      fill(ratesBox, errorBox(error, { retry: loadRates }));
      return;
    }
    const add = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => editRate(table, null) }, '+ Imposta una tariffa');
    fill(ratesBox,
      h('p', { class: 'small muted', text: table.note.replace(/is_default\s*=\s*true/g, '«predefinita»') }),
      h('div', { class: 'actions', style: { marginBottom: '1rem' } }, add),
      table.rates.length ? h('div', { class: 'table-wrap' }, responsive(h('table', null,
        h('caption', { class: 'sr-only', text: 'Tariffe orarie per livello di mansione e anno' }),
        h('thead', null, h('tr', null, ['Livello di mansione', 'Anno', '€ / ora', 'Fonte', ''].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, table.rates.map((r) => h('tr', null,
          h('th', { scope: 'row', text: r.task_level_label || r.task_level }),
          h('td', { class: 'num', text: r.year }),
          h('td', { class: 'num', text: EURO2.format(r.eur_per_hour) }),
          h('td', null, r.source, ' ', r.is_default ? badge('predefinita', 'neutral') : badge('dell\'Ufficio di Piano', 'info')),
          h('td', null, h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Modifica la tariffa ${r.task_level} ${r.year}`, onclick: () => editRate(table, r) }, 'Modifica'),
            r.is_default ? null : h('button', {
              type: 'button', class: 'btn btn-danger btn-small', 'aria-label': `Ripristina la tariffa predefinita ${r.task_level} ${r.year}`,
              onclick: async () => {
                if (!await confirmDialog('Tornare alla tariffa predefinita?', `${r.task_level} · ${r.year}`, { confirmText: 'Ripristina' })) return;
                try {
                  await api(`/api/metrics/rates/${r.task_level}/${r.year}`, { method: 'DELETE' });
                  flash('Tariffa predefinita ripristinata.');
                  await loadRates();
                } catch (error) {
                  flash(error.message, 'error');
                }
              },
            }, 'Ripristina')))))))))
        : emptyState('Nessuna tariffa', 'Imposta le tariffe orarie per livello di mansione: servono a dare un valore in euro alle ore donate.'));
  }

  function editRate(table, rate) {
    const level = select('task_level', Object.entries(table.task_levels), rate?.task_level || table.default_task_level);
    const year = input('year', rate?.year || italyToday().getFullYear(), { type: 'number', min: 2000, max: 2100, inputmode: 'numeric' });
    const euro = input('eur_per_hour', rate?.eur_per_hour ?? '', { type: 'number', min: 0.01, max: 1000, step: 0.01, inputmode: 'decimal' });
    const source = textarea('source', rate && !rate.is_default ? rate.source : '', { rows: 2, maxlength: 1000 });
    if (rate) { level.disabled = true; year.readOnly = true; }
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Salva la tariffa' });
    const form = h('form', { novalidate: true },
      h('div', { class: 'row' }, field('Livello di mansione', level, { required: true }), field('Anno', year, { required: true })),
      field('Euro all\'ora', euro, { required: true, hint: 'Costo orario del livello equivalente, ad esempio dalle tabelle del contratto delle cooperative sociali' }),
      field('Fonte', source, { required: true, hint: 'Da dove viene la tariffa (tabella, decreto, anno)' }),
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await busy(submit, () => api(`/api/metrics/rates/${level.value}/${Number(year.value)}`, {
          method: 'PUT', body: { eur_per_hour: Number(euro.value), source: source.value.trim() },
        }));
        dialog.close();
        flash('Tariffa salvata: il cruscotto la usa da ora.');
        await loadRates();
      } catch (error) {
        showFormError(form, error, { eur_per_hour: 'Euro all\'ora', source: 'Fonte' });
      }
    });
    const dialog = openDialog(rate ? `Tariffa ${rate.task_level} · ${rate.year}` : 'Nuova tariffa oraria', form);
    (rate ? euro : level).focus();
  }

  // --- interactions among holders -------------------------------------------------------------
  async function loadInteractions() {
    fill(interactionsBox, loading());
    let list;
    try {
      list = await api('/api/interactions', { query: { limit: 200 } });
    } catch (error) {
      fill(interactionsBox, errorBox(error, { retry: loadInteractions }));
      return;
    }
    const add = h('button', { type: 'button', class: 'btn btn-primary', onclick: addInteraction }, '+ Registra un\'interazione');
    fill(interactionsBox,
      h('div', { class: 'actions', style: { marginBottom: '1rem' } }, add),
      list.length ? h('ul', { class: 'rules' }, list.map((x) => h('li', null,
        h('div', null, h('strong', { text: x.title }), h('div', { class: 'small muted', text: `${KINDS[x.kind] || x.kind} · ${fmt.date(x.occurred_on)} · ${x.holder_ids.map((id) => holderName[id] || 'ente').join(', ')}` })),
        h('button', {
          type: 'button', class: 'btn btn-danger btn-small', 'aria-label': `Elimina ${x.title}`,
          onclick: async () => {
            if (!await confirmDialog('Eliminare l\'interazione?', x.title, { confirmText: 'Elimina', danger: true })) return;
            try {
              await api(`/api/interactions/${x.id}`, { method: 'DELETE' });
              flash('Interazione eliminata.');
              await loadInteractions();
            } catch (error) {
              flash(error.message, 'error');
            }
          },
        }, 'Elimina'))))
        : emptyState('Nessuna interazione registrata', 'I legami tra enti nascono da sé quando contribuiscono agli stessi piani o alle stesse attività; qui registri quelli che il registro non vede, come un tavolo di co-programmazione.'));
  }

  function addInteraction() {
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Registra' });
    const form = h('form', { novalidate: true },
      h('div', { class: 'row' },
        field('Tipo', select('kind', Object.entries(KINDS), 'co_programming_table'), { required: true }),
        field('Data', input('occurred_on', italyTodayIso(), { type: 'date' }), { required: true })),
      field('Titolo', input('title', '', { maxlength: 200 }), { required: true, hint: 'Ad esempio «Tavolo anziani del Piano di Zona»' }),
      checkboxGroup('Enti che hanno partecipato', 'holder_ids', holders.map((x) => [x.id, x.name]), [], { hint: 'Almeno due', columns: true }),
      field('Nota', textarea('note', '', { rows: 2, maxlength: 2000 })),
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const body = { kind: d.get('kind'), occurred_on: d.get('occurred_on'), title: d.get('title').trim(), holder_ids: checkedValues(form, 'holder_ids'), note: d.get('note').trim() };
      const missing = {};
      if (!body.title) missing.title = 'Scrivi il titolo.';
      if (body.holder_ids.length < 2) missing.holder_ids = 'Scegli almeno due enti.';
      if (Object.keys(missing).length) {
        showFormError(form, { message: 'Completa i campi indicati.', fieldMessages: () => missing });
        return;
      }
      try {
        await busy(submit, () => api('/api/interactions', { method: 'POST', body }));
        dialog.close();
        flash('Interazione registrata: conta nella rete di coesione.');
        await loadInteractions();
      } catch (error) {
        showFormError(form, error, { title: 'Titolo', holder_ids: 'Enti', occurred_on: 'Data' });
      }
    });
    const dialog = openDialog('Nuova interazione tra enti', form, { wide: true });
    form.querySelector('select').focus();
  }

  root.append(pageHeader('Tariffe e rete', {
    crumbs: [['Cruscotto', '#/cruscotto'], ['Tariffe e rete']],
    lead: 'Le tariffe orarie danno un valore in euro al tempo donato; le interazioni registrate a mano completano la rete di coesione.',
  }),
  h('section', { class: 'card', 'aria-labelledby': 'rates-title' }, h('h2', { id: 'rates-title', text: 'Tariffe orarie per livello di mansione' }), ratesBox),
  h('section', { class: 'card', 'aria-labelledby': 'inter-title' }, h('h2', { id: 'inter-title', text: 'Interazioni tra enti' }), interactionsBox));
  await Promise.all([loadRates(), loadInteractions()]);
}
