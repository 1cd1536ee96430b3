import { api, download } from '../js/api.js';
import { chart, sectorPicture, stackedShare } from '../js/charts.js';
import { h, fill, responsive } from '../js/dom.js';
import { AREAS, HOLDER_KINDS, SECTORS, label } from '../js/i18n.js';
import * as i18n from '../js/i18n.js';
import { comuneNames, comuni } from '../js/store.js';
import {
  announce, busy, errorBox, field, flash, fmt, input, isoDate, italyToday, italyTodayIso, loading,
  pageHeader, progress, select,
} from '../js/ui.js';

// Italian names of the columns and how each indicator is read come from the server
// (GET /api/metrics/labels, registry/metrics/labels.py): the same words as the report and
// the exports.
let LABELS = { columns: {}, tables: {}, explanations: {}, withheld: '' };
const columnName = (c) => LABELS.columns[c] || c;
const HIDDEN_COLUMNS = new Set(['value_method', 'rate_years', 'period_start', 'period_end']);
const SHARE_COLUMNS = /share|coproduction|matched_over_offered/;
const FUND_LABELS = { national: 'Fondi nazionali', regional: 'Fondi regionali', municipal: 'Fondi comunali', eu_pnrr: 'Fondi europei / PNRR', other: 'Altre fonti' };

function cell(column, value, names) {
  if (value === null || value === undefined) return h('td', { class: 'num', title: 'Valore nascosto o non calcolabile' }, h('abbr', { title: 'non disponibile: nascosto per riservatezza o non calcolabile' }, 'n.d.'));
  if (column === 'comune') return h('td', { text: names[value] || value });
  if (column === 'period') return h('td', { text: periodName(value) });
  if (column === 'area') return h('td', { text: label(AREAS, value) });
  if (column === 'sector') return h('td', { text: label(SECTORS, value) });
  if (column === 'holder_kind') return h('td', { text: label(HOLDER_KINDS, value) });
  if (column === 'fund_source') return h('td', { text: FUND_LABELS[value] || value });
  if (column === 'closure_reason') return h('td', { text: label(i18n.CLOSURE_REASONS || {}, value) });
  if (typeof value === 'boolean') return h('td', { text: value ? 'sì' : 'no' });
  if (typeof value === 'number') {
    let text = fmt.number(value);
    if (SHARE_COLUMNS.test(column)) text = fmt.percent(value);
    else if (column.endsWith('_eur')) text = fmt.euro(value);
    else if (column === 'leverage_ratio') text = `${fmt.number(value)} €`;
    return h('td', { class: 'num', text });
  }
  return h('td', { text: String(value) });
}

function publishedTable(table, names, open = false) {
  const columns = table.columns.filter((c) => !HIDDEN_COLUMNS.has(c));
  const explained = columns.filter((c) => LABELS.explanations[c]);
  const rows = table.total ? [...table.rows, { ...table.total, __total: true }] : table.rows;
  return h('details', { class: 'card data-table', open },
    h('summary', null, h('strong', { text: LABELS.tables[table.name] || table.title })),
    // A wide table scrolls: its region takes the keyboard focus (WCAG, as in gaps.js).
    rows.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': `${LABELS.tables[table.name] || table.title} (scorre in orizzontale)` }, responsive(h('table', null,
      h('caption', { class: 'sr-only', text: table.title }),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', text: columnName(c), title: LABELS.explanations[c] || null })))),
      h('tbody', null, rows.map((row) => h('tr', { class: row.__total ? 'total' : null },
        columns.map((c, i) => (i === 0 && row.__total && (row[c] === undefined || row[c] === null) ? h('th', { scope: 'row', text: 'Totale' }) : cell(c, row[c], names)))))))))
      : h('p', { class: 'muted', text: 'Nessun dato nel periodo.' }),
    explained.length ? h('dl', { class: 'small' }, explained.flatMap((c) => [h('dt', { text: columnName(c) }), h('dd', { text: LABELS.explanations[c] })])) : null,
    table.notes && table.notes.length ? h('ul', { class: 'small muted' }, table.notes.map((n) => h('li', { text: nd(n) }))) : null);
}

// The API says "null" for a hidden value; on screen a hidden value reads "n.d.".
const show = (format, value) => (value === null || value === undefined ? 'n.d.' : format(value));
const nd = (text) => String(text)
  .replace(/\(null\)/g, '(n.d.)').replace(/\bnull\b/g, 'n.d.')
  .replace(/\b[a-z]+(?:_[a-z0-9]+)+\b|\b(?:persons|holders|entries|needs|resources|nodes|edges)\b/g, (w) => (LABELS.columns[w] ? `«${LABELS.columns[w]}»` : w))
  .replace(/\bdetentori\b/g, 'soggetti della comunità').replace(/\bdetentore\b/g, 'soggetto della comunità');

const MONTHS = ['gen', 'feb', 'mar', 'apr', 'mag', 'giu', 'lug', 'ago', 'set', 'ott', 'nov', 'dic'];
function periodLabel(key) {
  let m = /^(\d{4})-(\d{2})$/.exec(key || '');
  if (m) return `${MONTHS[Number(m[2]) - 1]} ${m[1].slice(2)}`;
  m = /^(\d{4})-Q(\d)$/.exec(key || '');
  if (m) return `T${m[2]} ${m[1]}`;
  return key;
}

// In tables, periods by their full Italian names, as in the exports and the report
// (registry/italian.py period_label): 2026-11 -> «novembre 2026», 2026-Q2 -> «2º trimestre 2026».
const MONTH_NAMES = ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto', 'settembre', 'ottobre', 'novembre', 'dicembre'];
function periodName(key) {
  let m = /^(\d{4})-(\d{2})$/.exec(key || '');
  if (m) return `${MONTH_NAMES[Number(m[2]) - 1]} ${m[1]}`;
  m = /^(\d{4})-Q(\d)$/.exec(key || '');
  if (m) return `${m[2]}º trimestre ${m[1]}`;
  return /^\d{4}$/.test(key || '') ? `anno ${key}` : key;
}

/** First day of a period key (2026-03, 2026-Q2, 2026), as an ISO date. */
function periodStart(key) {
  const q = /^(\d{4})-Q(\d)$/.exec(key || '');
  if (q) return `${q[1]}-${String((Number(q[2]) - 1) * 3 + 1).padStart(2, '0')}-01`;
  return /^\d{4}-\d{2}$/.test(key || '') ? `${key}-01` : `${key}-01-01`;
}

function stat(value, what, note) {
  return h('div', { class: 'stat' }, h('span', { class: 'value', text: value }), h('span', { class: 'what', text: what }), note ? h('span', { class: 'note', text: note }) : null);
}

function moneyNote(money) {
  if (!money) return null;
  const rate = money.rate_eur_per_hour ? ` · ${fmt.euro(money.rate_eur_per_hour)}/ora` : '';
  const years = money.rate_year ? ` (${money.rate_year})` : money.rate_years?.length ? ` (${money.rate_years.join(', ')})` : '';
  return `${rate}${years}${money.uses_default_rates ? ' · tariffe predefinite' : ''}`.replace(/^ · /, '') || null;
}

export default async function dashboard(root, { query, replaceQuery }) {
  const [comuneList, names, labels] = await Promise.all([comuni(), comuneNames(), api('/api/metrics/labels')]);
  LABELS = labels;
  const today = italyToday();
  const state = {
    from: query.from || `${today.getFullYear()}-01-01`,
    to: query.to || isoDate(today),
    granularity: query.granularity || 'month',
    comune: query.comune || '', area: query.area || '', holder_kind: query.holder_kind || '', sector: query.sector || '',
  };
  const from = input('from', state.from, { type: 'date' });
  const to = input('to', state.to, { type: 'date' });
  const granularity = select('granularity', [['month', 'Mese'], ['quarter', 'Trimestre']], state.granularity);
  const comune = select('comune', comuneList.map((c) => [c.istat_code, c.name]), state.comune, { placeholder: 'Tutto l\'ambito' });
  const area = select('area', Object.entries(AREAS), state.area, { placeholder: 'Tutte le aree' });
  const kind = select('holder_kind', Object.entries(HOLDER_KINDS), state.holder_kind, { placeholder: 'Tutti i tipi' });
  const sector = select('sector', Object.entries(SECTORS), state.sector, { placeholder: 'Tutti i settori' });
  const presets = h('div', { class: 'actions' },
    [['Anno in corso', `${today.getFullYear()}-01-01`, isoDate(today)],
      ['Anno scorso', `${today.getFullYear() - 1}-01-01`, `${today.getFullYear() - 1}-12-31`],
      // Calendar periods withhold the fewest figures: a quarter's or a year's cell is hidden
      // only where exactly one of its parts hides it (registry/metrics/disclosure.py).
      ['Trimestre in corso', isoDate(new Date(today.getFullYear(), Math.floor(today.getMonth() / 3) * 3, 1)), isoDate(today)]]
      .map(([text, a, b]) => h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: () => { from.value = a; to.value = b; form.requestSubmit(); } }, text)));
  const form = h('form', { class: 'filters', 'aria-label': 'Filtri del cruscotto' },
    h('div', { class: 'row' }, field('Dal', from), field('Al', to), field('Dettaglio', granularity), field('Comune', comune)),
    h('details', { class: 'more-filters', open: Boolean(state.area || state.holder_kind || state.sector) || window.matchMedia('(min-width: 761px)').matches },
      h('summary', { text: 'Altri filtri' }),
      h('div', { class: 'row' }, field('Area di utenza', area), field('Tipo di soggetto', kind), field('Settore', sector))),
    h('div', { class: 'actions', style: { marginTop: '.75rem' } }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiorna' })),
    h('div', { style: { marginTop: '.75rem' } }, presets));
  const body = h('div', { 'aria-live': 'off' });
  const exportsBox = h('section', { class: 'card', 'aria-labelledby': 'exports-title' });

  const params = () => ({
    from: state.from, to: state.to, comune: state.comune, area: state.area, holder_kind: state.holder_kind, sector: state.sector,
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    Object.assign(state, { from: from.value, to: to.value, granularity: granularity.value, comune: comune.value, area: area.value, holder_kind: kind.value, sector: sector.value });
    load();
  });

  async function load() {
    replaceQuery(state);
    fill(body, loading('Calcolo degli indicatori…'));
    let summary;
    let series;
    let network;
    try {
      [summary, series, network] = await Promise.all([
        api('/api/metrics/summary', { query: params() }),
        api('/api/metrics/timeseries', { query: { ...params(), granularity: state.granularity } }),
        api('/api/metrics/network', { query: { from: state.from, to: state.to, comune: state.comune, holder_kind: state.holder_kind, sector: state.sector, granularity: state.granularity === 'month' ? 'quarter' : state.granularity } }),
      ]);
    } catch (error) {
      fill(body, errorBox(error, { retry: load }));
      return;
    }
    const hl = summary.headline;
    // Periods still to come have public spending (prorated) but no hours yet: the charts stop
    // at today; the tables keep every period.
    const today = italyTodayIso();
    const rows = series.series.rows.filter((r) => periodStart(r.period) <= today);
    const periods = rows.map((r) => periodLabel(r.period));
    const freshness = summary.tables.find((t) => t.name === 'freshness')?.rows?.[0];
    const suppressed = [summary.suppression, series.suppression, network.suppression].reduce((n, x) => n + x.cells.length, 0);
    announce(`Indicatori aggiornati: ${fmt.number(hl.hours_verified)} ore verificate.`);

    const netRows = network.periods.rows;
    fill(body,
      h('p', { class: 'small muted', text: `Dati ${summary.source === 'snapshot' ? 'dall\'ultima elaborazione notturna' : 'calcolati ora'} al ${fmt.dateTime(summary.as_of)} · periodo ${summary.period.label || `dal ${fmt.date(summary.period.start)} al ${fmt.date(summary.period.end)}`} (${summary.period.days} giorni).` }),
      h('section', { 'aria-labelledby': 'headline-title' },
        h('h2', { id: 'headline-title', text: 'In sintesi' }),
        h('div', { class: 'stat-grid' },
          stat(show(fmt.number, hl.hours_verified), 'ore verificate', hl.fte !== null ? `${fmt.number(hl.fte)} FTE · ${fmt.number(hl.hours_self_reported_unverified)} ore da verificare` : null),
          stat(show(fmt.euro, hl.replacement_value.amount_eur), 'valore del tempo donato', moneyNote(hl.replacement_value) || 'costo di sostituzione'),
          stat(show(fmt.euro, hl.in_kind_value.amount_eur), 'valore in natura (beni e spazi)', 'valore dichiarato'),
          stat(show(fmt.euro, hl.public_spending.amount_eur), 'spesa pubblica degli interventi', 'euro spesi nel periodo'),
          stat(hl.leverage_ratio === null ? 'n.d.' : `${fmt.number(hl.leverage_ratio)} €`, 'valore di comunità per 1 € pubblico', 'leva sulla spesa pubblica'),
          stat(show(fmt.percent, hl.coproduction_share), 'quota di co-produzione', 'comunità / (comunità + pubblico)'),
          stat(show(fmt.percent, hl.share_needs_matched), 'bisogni abbinati', hl.needs !== null ? `su ${fmt.number(hl.needs)} bisogni` : null),
          stat(hl.time_to_match_median_days === null ? 'n.d.' : `${fmt.number(hl.time_to_match_median_days)} gg`, 'tempo mediano di abbinamento', hl.time_to_match_p90_days !== null ? `90° percentile: ${fmt.number(hl.time_to_match_p90_days)} gg` : null),
          stat(show(fmt.percent, hl.share_resources_confirmed_90_days), 'risorse confermate negli ultimi 90 giorni', 'freschezza dei dati'),
          stat(show(fmt.number, hl.holders), 'soggetti della comunità che hanno contribuito', hl.persons !== null ? `${fmt.number(hl.persons)} persone` : null)),
        h('details', { class: 'card small' },
          h('summary', { text: 'Come leggere questi indicatori' }),
          h('dl', null, ['hours_community', 'fte', 'holders', 'replacement_value_eur', 'leverage_ratio', 'coproduction_share', 'median_days', 'p90_days', 'share_confirmed']
            .filter((c) => LABELS.explanations[c])
            .flatMap((c) => [h('dt', { text: columnName(c) }), h('dd', { text: LABELS.explanations[c] })])),
          h('p', { text: LABELS.withheld }))),
      h('div', { class: 'grid-even' },
        h('section', { class: 'card chart-card' }, chart({
          title: 'Ore verificate nel tempo', labels: periods, kind: 'bar',
          series: [{ name: 'Ore di comunità', values: rows.map((r) => r.hours_community) }, { name: 'Ore pagate da interventi', values: rows.map((r) => r.hours_paid_by_interventions) }],
        })),
        h('section', { class: 'card chart-card' }, chart({
          title: 'Valore di comunità e spesa pubblica', labels: periods, kind: 'line', format: fmt.euro,
          series: [{ name: 'Valore di comunità', values: rows.map((r) => r.community_value_eur) }, { name: 'Spesa pubblica', values: rows.map((r) => r.public_eur) }],
        })),
        h('section', { class: 'card chart-card' }, chart({
          title: 'Leva: euro di comunità per euro pubblico', labels: periods, kind: 'line', format: (v) => fmt.number(v),
          series: [{ name: 'Leva', values: rows.map((r) => r.leverage_ratio) }],
        })),
        h('section', { class: 'card chart-card' }, stackedShare({
          title: 'Copertura dei bisogni',
          parts: [
            { name: 'Solo dalla comunità', value: hl.share_needs_community_only, color: '#00703c' },
            { name: 'Comunità e interventi', value: hl.share_needs_both, color: '#007f99' },
            { name: 'Solo interventi finanziati', value: hl.share_needs_intervention_only, color: '#0059b3' },
            { name: 'Non coperti', value: hl.share_needs_none, color: '#c0392b' },
          ],
        })),
        h('section', { class: 'card chart-card' }, chart({
          title: 'Rete di coesione: legami e grado medio', labels: netRows.map((r) => periodLabel(r.period)), kind: 'line',
          series: [{ name: 'Legami', values: netRows.map((r) => r.edges) }, { name: 'Nuovi legami', values: netRows.map((r) => r.new_ties) }, { name: 'Grado medio', values: netRows.map((r) => r.average_degree) }],
        }), h('p', { class: 'small', text: trendText(network.trend) }),
        h('details', { class: 'small' }, h('summary', { text: 'Come leggere la rete' }),
          h('dl', null, ['density', 'average_degree', 'ei_index', 'sector_assortativity', 'modularity']
            .flatMap((c) => [h('dt', { text: columnName(c) }), h('dd', { text: LABELS.explanations[c] || '' })])))),
        h('section', { class: 'card chart-card' }, sectorPicture({
          title: 'La rete per settore (ultimo periodo)',
          sectors: network.nodes_by_sector.rows, blocks: network.sector_blocks, labels: SECTORS,
        })),
        h('section', { class: 'card chart-card' }, stackedShare({
          title: 'Freschezza: risorse confermate negli ultimi 90 giorni',
          parts: [
            { name: 'Confermate', value: freshness ? freshness.share_confirmed : null, color: '#00703c' },
            { name: 'Da riconfermare', value: freshness && freshness.share_confirmed !== null ? 1 - freshness.share_confirmed : null, color: '#b07800' },
          ],
        }))),
      h('section', { 'aria-labelledby': 'tables-title' },
        h('h2', { id: 'tables-title', text: 'Tabelle' }),
        [...summary.tables, series.series, network.periods, network.nodes_by_sector].map((t) => publishedTable(t, names))),
      h('section', { class: 'card', 'aria-labelledby': 'method-title' },
        h('h2', { id: 'method-title', text: 'Metodo e riservatezza' }),
        h('ul', null, [...new Set([...summary.notes, ...series.notes, ...network.notes])].map((n) => h('li', { text: nd(n) }))),
        h('p', null, h('strong', { text: 'Valore del tempo: ' }), hl.replacement_value.method, '. ', h('a', { href: '#/tariffe', text: 'Tariffe orarie e interazioni tra soggetti della comunità' }), '.'),
        h('p', null, h('strong', { text: 'Valore in natura: ' }), hl.in_kind_value.method),
        h('p', null, h('strong', { text: 'Spesa pubblica: ' }), hl.public_spending.method),
        h('p', null, h('strong', { text: 'Riservatezza: ' }), `${nd(summary.suppression.note)}${suppressed ? ` In questa pagina: ${suppressed} valori nascosti (n.d.).` : ''}`)));
    drawExports(summary.tables.map((t) => [t.name, t.title]).concat([[series.series.name, series.series.title], [network.periods.name, network.periods.title]], OUTCOME_TABLES));
    body.append(outcomesSection());
  }

  // Outcomes for the persons of the plans (issue 15, GET /api/metrics/outcomes): loaded on
  // their own, so the rest of the dashboard does not wait for them.
  const OUTCOME_TABLES = [['outcomes_by_area', 'Esiti per area di utenza'], ['outcomes_by_comune', 'Esiti per comune'], ['outcome_closures', 'Piani chiusi per motivo']];
  function outcomesSection() {
    const box = h('div', null, loading('Calcolo degli esiti…'));
    const section = h('section', { 'aria-labelledby': 'outcomes-title' },
      h('h2', { id: 'outcomes-title', text: 'Esiti per le persone' }), box);
    if (state.holder_kind || state.sector) {
      fill(box, h('p', { class: 'muted', text: 'Gli esiti dei piani si leggono per comune o per area di utenza: togli il filtro per tipo di soggetto o settore per vederli.' }));
      return section;
    }
    const draw = async () => {
      let out;
      try {
        out = await api('/api/metrics/outcomes', { query: { from: state.from, to: state.to, comune: state.comune, area: state.area } });
      } catch (error) {
        fill(box, errorBox(error, { retry: draw }));
        return;
      }
      const tables = Object.fromEntries(out.tables.map((t) => [t.name, t]));
      const byArea = tables.outcomes_by_area;
      const tot = byArea.total || (byArea.rows.length === 1 ? byArea.rows[0] : (tables.outcomes_by_comune.rows[0] || {}));
      const pct = (v) => (v === null || v === undefined ? 'n.d.' : fmt.percent(v));
      const num = (v) => (v === null || v === undefined ? 'n.d.' : fmt.number(v));
      fill(box,
        h('div', { class: 'stat-grid' },
          stat(num(tot.plans), 'piani attivi nel periodo', null),
          stat(pct(tot.share_reviews_on_time), 'verifiche tenute entro la scadenza', tot.reviews_due !== null && tot.reviews_due !== undefined ? `su ${fmt.number(tot.reviews_due)} in scadenza` : null),
          stat(pct(tot.share_goals_attained), 'obiettivi raggiunti o superati', tot.goals_rated !== null && tot.goals_rated !== undefined ? `su ${fmt.number(tot.goals_rated)} valutati` : null),
          stat(tot.mean_t_change === null || tot.mean_t_change === undefined ? 'n.d.' : `${tot.mean_t_change > 0 ? '+' : ''}${fmt.number(tot.mean_t_change)}`, 'variazione media del punteggio T (GAS)', 'dalla situazione di partenza'),
          stat(num(tot.closures), 'piani chiusi', null),
          stat(pct(tot.share_plans_activated), 'piani in cui la persona è diventata contributrice', null)),
        // Where each plan's support comes from: mean shares per plan (no chart here: the
        // dashboard's charts are the contribution and network ones).
        h('h3', { text: 'Da dove viene il sostegno dei piani (quota media per piano)' }),
        h('div', { class: 'stat-grid' },
          stat(pct(tot.mean_share_own), 'dalla persona o dalla famiglia', tot.support_hours_own != null ? `${fmt.number(tot.support_hours_own)} ore in tutto` : null),
          stat(pct(tot.mean_share_community), 'dalla comunità', tot.support_hours_community != null ? `${fmt.number(tot.support_hours_community)} ore in tutto` : null),
          stat(pct(tot.mean_share_funded), 'da interventi finanziati', tot.support_hours_funded != null ? `${fmt.number(tot.support_hours_funded)} ore in tutto` : null)),
        h('details', { class: 'card small' },
          h('summary', { text: 'Come leggere gli esiti' }),
          h('dl', null, Object.entries(out.definitions).flatMap(([c, text]) => [h('dt', { text: columnName(c) }), h('dd', { text })]))),
        out.tables.map((t) => publishedTable(t, names)),
        h('ul', { class: 'small muted' }, [...out.notes, out.suppression.note].map((n) => h('li', { text: nd(n) }))));
    };
    draw();
    return section;
  }

  function trendText(trend) {
    const t = trend.edges;
    if (!t || t.change === null) return 'Andamento dei legami: non disponibile.';
    if (t.change > 0) return `I legami tra soggetti della comunità crescono: +${fmt.number(t.change)} dal primo all'ultimo periodo.`;
    if (t.change < 0) return `I legami tra soggetti della comunità diminuiscono: ${fmt.number(t.change)} dal primo all'ultimo periodo.`;
    return 'I legami tra soggetti della comunità sono stabili nel periodo.';
  }

  function drawExports(tables) {
    const status = h('div');
    const run = async (button, path, query, name) => {
      const bar = progress(status, `Preparazione di ${name}…`);
      try {
        const file = await busy(button, () => download(path, query, name), 'Preparazione…');
        flash(`Scaricato «${file.name}» (${fmt.number(file.size / 1024)} kB).`);
      } catch (error) {
        flash(error.message, 'error');
      } finally {
        bar.done();
      }
    };
    const xlsx = h('button', { type: 'button', class: 'btn btn-primary' }, 'Tutte le tabelle (XLSX)');
    xlsx.addEventListener('click', () => run(xlsx, '/api/metrics/export.xlsx', { ...params(), granularity: state.granularity }, 'indicatori.xlsx'));
    const report = h('button', { type: 'button', class: 'btn btn-primary' }, 'Rapporto per il Piano di Zona (HTML)');
    report.addEventListener('click', () => run(report, '/api/metrics/report.html', { ...params(), granularity: state.granularity, download: true }, 'rapporto.html'));
    const pdf = h('button', { type: 'button', class: 'btn btn-primary' }, 'Rapporto per il Piano di Zona (PDF)');
    pdf.addEventListener('click', () => run(pdf, '/api/metrics/report.pdf', { ...params(), granularity: state.granularity }, 'rapporto.pdf'));
    const tableSelect = select('table', tables.map(([name, title]) => [name, LABELS.tables[name] || title]), tables[0]?.[0]);
    // Italian Excel by default (";" and decimal commas); the machine variant keeps the API's
    // names and codes with "," and decimal points.
    const dialect = select('dialect', [['italian', 'Excel in italiano (; e virgola decimale)'], ['machine', 'Per programmi (, e punto decimale, codici)']], 'italian');
    const csv = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Scarica CSV');
    csv.addEventListener('click', () => run(csv, `/api/metrics/export/${tableSelect.value}.csv`, { ...params(), granularity: state.granularity, dialect: dialect.value }, `${tableSelect.value}.csv`));
    fill(exportsBox,
      h('h2', { id: 'exports-title', text: 'Esportazioni' }),
      h('p', { class: 'small muted', text: 'Le esportazioni usano gli stessi filtri del cruscotto e applicano la stessa tutela della riservatezza. Il rapporto in PDF è un documento A4 da allegare al Piano di Zona.' }),
      h('div', { class: 'actions' }, xlsx, report, pdf),
      h('div', { class: 'row', style: { marginTop: '1rem' } }, field('Una tabella in CSV', tableSelect), field('Formato', dialect), csv),
      status);
  }

  root.append(pageHeader('Cruscotto dell\'Ufficio di Piano', {
    lead: 'Cosa dà la comunità accanto a quanto paga la spesa pubblica: ore, valore, leva, copertura dei bisogni, rete di coesione, freschezza dei dati.',
  }), form, exportsBox, body);
  fill(exportsBox, h('h2', { id: 'exports-title', text: 'Esportazioni' }), loading());
  await load();
}
