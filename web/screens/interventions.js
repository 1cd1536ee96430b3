import { api, ApiError, download } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import { AREAS, FNPS_LEVELS, FUND_SOURCES, count, label, plural } from '../js/i18n.js';
import { comuneNames, comuni } from '../js/store.js';
import {
  announce, busy, checkboxGroup, checkedValues, confirmDialog, emptyState, errorBox, field, flash,
  fmt, input, italyToday, loading, openDialog, pageHeader, progress, select, showFormError,
  textarea,
} from '../js/ui.js';

const PAGE = 50;
const LABELS = {
  code: 'Codice', title: 'Titolo', description: 'Descrizione', fund_source: 'Fonte', user_area: 'Area di utenza',
  fnps_level: 'Macro-livello FNPS', comuni: 'Comuni', period_start: 'Inizio', period_end: 'Fine',
  committed_cents: 'Impegnato', spent_cents: 'Speso', hours_delivered: 'Ore erogate', beneficiaries: 'Beneficiari',
};
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export default async function interventions(root, { session, query, replaceQuery }) {
  const writer = session.role === 'udp_admin';
  const [comuneList, names] = await Promise.all([comuni(), comuneNames()]);
  const state = { fund_source: query.fund_source || '', user_area: query.user_area || '', fnps_level: query.fnps_level || '', comune: query.comune || '', year: query.year || '', offset: 0 };
  const fund = select('fund_source', Object.entries(FUND_SOURCES), state.fund_source, { placeholder: 'Tutte' });
  const area = select('user_area', Object.entries(AREAS), state.user_area, { placeholder: 'Tutte' });
  const level = select('fnps_level', Object.entries(FNPS_LEVELS), state.fnps_level, { placeholder: 'Tutti' });
  const comune = select('comune', comuneList.map((c) => [c.istat_code, c.name]), state.comune, { placeholder: 'Tutti' });
  const year = input('year', state.year, { type: 'number', min: 2000, max: 2100, inputmode: 'numeric', placeholder: 'es. 2026' });
  const filters = h('form', { class: 'filters', 'aria-label': 'Filtra gli interventi' },
    h('div', { class: 'row' }, field('Fonte', fund), field('Area di utenza', area), field('Macro-livello FNPS', level), field('Comune', comune), field('Anno', year),
      h('button', { type: 'submit', class: 'btn btn-primary', text: 'Filtra' })));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    Object.assign(state, { fund_source: fund.value, user_area: area.value, fnps_level: level.value, comune: comune.value, year: year.value, offset: 0 });
    load();
  });
  const importBox = h('section', { class: 'card', 'aria-labelledby': 'import-title', hidden: !writer });
  const list = h('div');
  const filterQuery = () => ({ fund_source: state.fund_source, user_area: state.user_area, fnps_level: state.fnps_level, comune: state.comune, year: state.year });

  async function load() {
    replaceQuery(filterQuery());
    fill(list, loading());
    let page;
    try {
      page = await api('/api/interventions', { query: { ...filterQuery(), limit: PAGE, offset: state.offset } });
    } catch (error) {
      fill(list, errorBox(error, { retry: load }));
      return;
    }
    const items = page.items || page;
    const total = page.total ?? items.length;
    announce(`${total} interventi`);
    if (!items.length) {
      fill(list, emptyState('Nessun intervento finanziato', writer
        ? 'Aggiungi gli interventi pagati con fondi pubblici, uno per uno o importando il foglio di calcolo che l\'ufficio già usa: servono per calcolare la leva della comunità sulla spesa pubblica.'
        : 'L\'Ufficio di Piano non ha ancora inserito interventi.'));
      return;
    }
    const spent = items.reduce((sum, x) => sum + x.spent_cents, 0) / 100;
    const committed = items.reduce((sum, x) => sum + x.committed_cents, 0) / 100;
    const hours = items.reduce((sum, x) => sum + x.hours_delivered, 0);
    fill(list,
      h('div', { class: 'stat-grid' },
        h('div', { class: 'stat' }, h('span', { class: 'value', text: fmt.number(total) }), h('span', { class: 'what', text: 'interventi' })),
        h('div', { class: 'stat' }, h('span', { class: 'value', text: fmt.euro(spent) }), h('span', { class: 'what', text: 'spesi' }), h('span', { class: 'note', text: `su ${fmt.euro(committed)} impegnati` })),
        h('div', { class: 'stat' }, h('span', { class: 'value', text: fmt.number(hours) }), h('span', { class: 'what', text: 'ore erogate' }))),
      h('div', { class: 'table-wrap' }, responsive(h('table', null,
        h('caption', { class: 'sr-only', text: 'Interventi finanziati' }),
        h('thead', null, h('tr', null, ['Intervento', 'Fonte', 'Area', 'Periodo', 'Speso', 'Ore', 'Beneficiari', writer ? 'Azioni' : null].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, items.map((x) => h('tr', null,
          h('th', { scope: 'row' }, x.title, x.code ? h('div', { class: 'small muted', text: x.code }) : null, h('div', { class: 'small muted', text: x.comuni.length ? x.comuni.map((c) => names[c] || c).join(', ') : 'tutto l\'ambito' })),
          h('td', { text: x.fund_source_label || label(FUND_SOURCES, x.fund_source) }),
          h('td', null, x.user_area_label || label(AREAS, x.user_area), h('div', { class: 'small muted', text: x.fnps_level_label || label(FNPS_LEVELS, x.fnps_level) })),
          h('td', { text: `${fmt.shortDate(x.period_start)} ${new Date(x.period_start).getFullYear()} – ${fmt.date(x.period_end)}` }),
          h('td', { class: 'num' }, fmt.euro(x.spent_cents / 100), h('div', { class: 'small muted', text: `impegnati ${fmt.euro(x.committed_cents / 100)}` })),
          h('td', { class: 'num', text: fmt.number(x.hours_delivered) }),
          h('td', { class: 'num', text: fmt.number(x.beneficiaries) }),
          writer ? h('td', null, h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Modifica ${x.title}`, onclick: () => edit(x) }, 'Modifica'),
            h('button', { type: 'button', class: 'btn btn-danger btn-small', 'aria-label': `Elimina ${x.title}`, onclick: () => remove(x) }, 'Elimina'))) : null)))))));
  }

  async function remove(x) {
    if (!await confirmDialog('Eliminare l\'intervento?', `«${x.title}» non conterà più nella spesa pubblica del cruscotto.`, { confirmText: 'Elimina', danger: true })) return;
    try {
      await api(`/api/interventions/${x.id}`, { method: 'DELETE' });
      flash('Intervento eliminato.');
      await load();
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  function edit(current) {
    const c = current || { code: '', title: '', description: '', fund_source: 'regional', user_area: 'anziani', fnps_level: 'home_care', comuni: [], period_start: `${italyToday().getFullYear()}-01-01`, period_end: `${italyToday().getFullYear()}-12-31`, committed_cents: 0, spent_cents: 0, hours_delivered: 0, beneficiaries: 0 };
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: current ? 'Salva' : 'Aggiungi l\'intervento' });
    const form = h('form', { novalidate: true },
      h('div', { class: 'row' }, field('Titolo', input('title', c.title, { maxlength: 200 }), { required: true }), field('Codice (CUP o capitolo)', input('code', c.code || '', { maxlength: 64 }))),
      field('Descrizione', textarea('description', c.description, { rows: 2 })),
      h('div', { class: 'row' },
        field('Fonte di finanziamento', select('fund_source', Object.entries(FUND_SOURCES), c.fund_source), { required: true }),
        field('Area di utenza', select('user_area', Object.entries(AREAS), c.user_area), { required: true }),
        field('Macro-livello FNPS', select('fnps_level', Object.entries(FNPS_LEVELS), c.fnps_level), { required: true })),
      h('div', { class: 'row' }, field('Inizio', input('period_start', c.period_start, { type: 'date' }), { required: true }), field('Fine', input('period_end', c.period_end, { type: 'date' }), { required: true })),
      h('div', { class: 'row' },
        field('Impegnato (€)', input('committed', c.committed_cents / 100, { type: 'number', min: 0, step: 0.01, inputmode: 'decimal' })),
        field('Speso (€)', input('spent', c.spent_cents / 100, { type: 'number', min: 0, step: 0.01, inputmode: 'decimal' })),
        field('Ore erogate', input('hours_delivered', c.hours_delivered, { type: 'number', min: 0, step: 0.5, inputmode: 'decimal' })),
        field('Beneficiari', input('beneficiaries', c.beneficiaries, { type: 'number', min: 0, step: 1, inputmode: 'numeric' }))),
      checkboxGroup('Comuni', 'comuni', comuneList.map((x) => [x.istat_code, x.name]), c.comuni, { hint: 'Nessuna scelta = tutto l\'ambito', columns: true }),
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const body = {
        title: d.get('title').trim(), code: d.get('code').trim() || null, description: d.get('description').trim(),
        fund_source: d.get('fund_source'), user_area: d.get('user_area'), fnps_level: d.get('fnps_level'),
        period_start: d.get('period_start'), period_end: d.get('period_end'),
        committed_cents: Math.round(Number(d.get('committed') || 0) * 100), spent_cents: Math.round(Number(d.get('spent') || 0) * 100),
        hours_delivered: Number(d.get('hours_delivered') || 0), beneficiaries: Number(d.get('beneficiaries') || 0),
        comuni: checkedValues(form, 'comuni'),
      };
      if (!body.title) {
        showFormError(form, { message: 'Scrivi il titolo dell\'intervento.', fieldMessages: () => ({ title: 'Il titolo è obbligatorio.' }) }, LABELS);
        return;
      }
      try {
        await busy(submit, () => (current
          ? api(`/api/interventions/${current.id}`, { method: 'PATCH', body })
          : api('/api/interventions', { method: 'POST', body })), 'Salvataggio…');
        dialog.close();
        flash(current ? 'Intervento aggiornato.' : 'Intervento aggiunto.');
        await load();
      } catch (error) {
        showFormError(form, error, LABELS);
      }
    });
    const dialog = openDialog(current ? `Modifica: ${current.title}` : 'Nuovo intervento finanziato', form, { wide: true });
    form.querySelector('input').focus();
  }

  function drawImport() {
    const file = h('input', { type: 'file', name: 'file', accept: '.csv,.xlsx,text/csv,' + XLSX });
    const check = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Controlla il file');
    const go = h('button', { type: 'button', class: 'btn btn-primary' }, 'Importa');
    const result = h('div', { 'aria-live': 'polite' });
    async function send(dryRun, button) {
      const chosen = file.files[0];
      if (!chosen) {
        fill(result, h('p', { class: 'field-error', role: 'alert', text: 'Scegli prima un file CSV o XLSX.' }));
        file.focus();
        return;
      }
      fill(result);
      const bar = progress(result, dryRun ? `Controllo di «${chosen.name}»…` : `Importazione di «${chosen.name}»…`);
      const type = chosen.name.toLowerCase().endsWith('.xlsx') ? XLSX : 'text/csv';
      try {
        const report = await busy(button, () => api('/api/interventions/import', {
          method: 'POST', form: chosen, headers: { 'Content-Type': type }, query: { dry_run: dryRun, filename: chosen.name },
        }));
        bar.done();
        if (!report.rows_read) {
          // Nothing to import is not a success: say what the file lacks.
          fill(result, h('div', { class: 'notice notice-warning', role: 'status' }, h('p', { text: 'Il file non contiene righe di interventi: sotto la riga dei nomi delle colonne scrivi un intervento per riga.' })));
          return;
        }
        fill(result, h('div', { class: 'notice notice-success', role: 'status' }, h('p', { text: dryRun
          ? `Il file è corretto: ${count(report.rows_read, 'riga letta', 'righe lette')}, ${report.created} da aggiungere e ${report.updated} da aggiornare. Premi «Importa» per ${plural(report.rows_read, 'registrarla', 'registrarle')}.`
          : `Importazione riuscita: ${count(report.created, 'intervento aggiunto', 'interventi aggiunti')}, ${count(report.updated, 'aggiornato', 'aggiornati')}.` })));
        if (!dryRun) await load();
      } catch (error) {
        bar.done();
        if (error instanceof ApiError && error.status === 422 && error.body && Array.isArray(error.body.errors)) {
          const report = error.body;
          fill(result, h('div', { class: 'error-summary', role: 'alert', tabindex: '-1' },
            h('h3', { text: `Nessuna riga importata: ${count(report.errors.length, 'errore', 'errori')} su ${count(report.rows_read, 'riga', 'righe')}` }),
            h('p', { text: 'Correggi le righe indicate nel foglio e riprova: l\'importazione avviene solo se tutte le righe sono corrette.' }),
            h('div', { class: 'table-wrap' }, responsive(h('table', null,
              h('caption', { class: 'sr-only', text: 'Errori per riga' }),
              h('thead', null, h('tr', null, ['Riga', 'Colonna', 'Problema'].map((t) => h('th', { scope: 'col', text: t })))),
              h('tbody', null, report.errors.map((e) => h('tr', null,
                h('td', { class: 'num', text: e.line }), h('td', { text: e.field ? (LABELS[e.field] || e.field) : '—' }), h('td', { text: e.message })))))))));
          result.querySelector('.error-summary').focus();
        } else {
          fill(result, errorBox(error));
        }
      }
    }
    check.addEventListener('click', () => send(true, check));
    go.addEventListener('click', () => send(false, go));
    const template = h('button', { type: 'button', class: 'link-button' }, 'Scarica il modello da compilare (XLSX)');
    template.addEventListener('click', async () => {
      try {
        await download('/api/interventions/template', { format: 'xlsx' }, 'interventi-modello.xlsx');
      } catch (error) {
        flash(error.message, 'error');
      }
    });
    fill(importBox,
      h('h2', { id: 'import-title', text: 'Importa da foglio di calcolo' }),
      h('p', { class: 'small muted' }, 'CSV o XLSX, una riga per intervento. Il modello ha le colonne con i nomi italiani (codice, titolo, fonte_finanziamento, data_inizio, euro_spesi…) e una riga di esempio da sostituire con i vostri interventi. ', template, '.'),
      field('File', file),
      h('div', { class: 'actions' }, check, go),
      result);
  }

  const exportButton = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Esporta (XLSX)');
  exportButton.addEventListener('click', async () => {
    try {
      await busy(exportButton, () => download('/api/interventions/export', { ...filterQuery(), format: 'xlsx' }, 'interventi.xlsx'), 'Preparazione…');
    } catch (error) {
      flash(error.message, 'error');
    }
  });
  root.append(pageHeader('Interventi finanziati', {
    lead: 'I servizi pagati con fondi pubblici, accanto a ciò che dà la comunità: servono a calcolare la leva e la copertura dei bisogni.',
    actions: [writer ? h('button', { type: 'button', class: 'btn btn-primary', onclick: () => edit(null) }, '+ Nuovo intervento') : null, exportButton].filter(Boolean),
  }), importBox, filters, list);
  if (writer) drawImport();
  await load();
}
