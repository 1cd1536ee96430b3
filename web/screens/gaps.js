// The gap map (issue 13): open needs by category and comune per 1,000 residents, the
// categories no resource of the ambito serves, and the ambito's figures per resident as its
// Region sees them. Small counts arrive withheld (null) and are shown as such.

import { api } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import { badge, errorBox, fmt, loading, pageHeader } from '../js/ui.js';

const SVG = 'http://www.w3.org/2000/svg';

function withheld() {
  return [h('span', { 'aria-hidden': 'true', text: '—' }), h('span', { class: 'sr-only', text: 'nascosto (pochi casi)' })];
}

function countText(count, rate) {
  if (count === null || count === undefined) return withheld();
  return rate === null || rate === undefined ? fmt.number(count) : `${fmt.number(count)} (${fmt.number(rate)})`;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

// Comuni centroids on a plain equirectangular sketch: circles grow with open needs per 1,000
// residents; a withheld value is a hollow circle. The table below carries the same figures.
function sketch(comuni) {
  const placed = comuni.filter((c) => c.lat !== null && c.lon !== null);
  if (placed.length < 2) return null;
  const lats = placed.map((c) => c.lat);
  const lons = placed.map((c) => c.lon);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const width = 600;
  const height = 400;
  const pad = 40;
  const scale = Math.min((width - 2 * pad) / (maxLon - minLon || 1), (height - 2 * pad) / (maxLat - minLat || 1));
  const top = Math.max(1, ...placed.map((c) => c.per_1000 || 0));
  const picture = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Mappa dei comuni: cerchi più grandi dove i bisogni aperti per 1.000 residenti sono di più', class: 'gap-map' });
  for (const c of placed) {
    const x = pad + (c.lon - minLon) * scale;
    const y = height - pad - (c.lat - minLat) * scale;
    const hidden = c.open_needs === null;
    const radius = hidden ? 6 : 4 + 22 * Math.sqrt((c.per_1000 || 0) / top);
    const label = hidden ? `${c.name}: nascosto` : `${c.name}: ${fmt.number(c.open_needs)} bisogni aperti${c.per_1000 === null ? '' : `, ${fmt.number(c.per_1000)} per 1.000 residenti`}`;
    picture.append(
      svg('circle', { cx: x, cy: y, r: radius, fill: hidden ? 'none' : '#d55e00', 'fill-opacity': 0.6, stroke: '#1a1a1a', 'stroke-width': 1 }, svg('title', {}, label)),
      svg('text', { x, y: y + radius + 12, 'text-anchor': 'middle', 'font-size': 11 }, c.name));
  }
  return h('figure', { class: 'card' }, picture, h('figcaption', { class: 'small muted', text: 'Posizione approssimata (centro del comune). Cerchio vuoto: valore nascosto.' }));
}

export default async function gaps(root) {
  const body = h('div', null, loading());
  root.append(pageHeader('Bisogni scoperti', { lead: 'Bisogni aperti dei piani attivi per categoria e comune, ogni 1.000 residenti, e le categorie per cui nell\'ambito non esiste alcuna risorsa.' }), body);

  async function load() {
    let answer;
    try {
      answer = await api('/api/gap-map');
    } catch (error) {
      fill(body, errorBox(error, { retry: load }));
      return;
    }
    const rates = answer.rates;
    const rate = (key, format) => (rates[key] === null ? withheld() : format(rates[key]));
    const comuni = answer.comuni;
    const table = responsive(h('table', null,
      h('caption', { text: 'Bisogni aperti per categoria e comune (tra parentesi: ogni 1.000 residenti)' }),
      h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Categoria' }),
        comuni.map((c) => h('th', { scope: 'col', class: 'num', text: c.name })), h('th', { scope: 'col', class: 'num', text: 'Totale' }))),
      h('tbody', null, answer.rows.map((row) => h('tr', null,
        h('th', { scope: 'row' }, row.category_name, row.no_resource ? [' ', badge('senza risorse', 'warning')] : null),
        comuni.map((c) => h('td', { class: 'num' }, countText(row.counts[c.istat_code], row.per_1000[c.istat_code]))),
        h('td', { class: 'num' }, countText(row.total, row.total_per_1000))))),
      h('tfoot', null, h('tr', null, h('th', { scope: 'row', text: 'Totale' }),
        comuni.map((c) => h('td', { class: 'num' }, countText(c.open_needs, c.per_1000))),
        h('td', { class: 'num' }, countText(answer.total_open_needs, answer.total_per_1000))))));
    fill(body,
      h('section', { class: 'card', 'aria-labelledby': 'rates-title' },
        h('h2', { id: 'rates-title', text: 'Per residente (anno in corso)' }),
        h('dl', { class: 'facts' },
          h('dt', { text: 'Residenti' }), h('dd', null, rate('residents', fmt.number)),
          h('dt', { text: 'Ore dei volontari ogni 1.000 residenti' }), h('dd', null, rate('hours_per_1000', fmt.number)),
          h('dt', { text: 'Valore della comunità ogni 1.000 residenti' }), h('dd', null, rate('value_eur_per_1000', fmt.euro)))),
      h('section', { class: 'card', 'aria-labelledby': 'uncovered-title' },
        h('h2', { id: 'uncovered-title', text: 'Categorie senza alcuna risorsa nell\'ambito' }),
        answer.uncovered.length
          ? h('ul', null, answer.uncovered.map((u) => h('li', null, `${u.category_name}: `, u.open_needs === null ? withheld() : `${fmt.number(u.open_needs)} bisogni aperti`)))
          : h('p', { text: 'Ogni categoria con bisogni aperti ha almeno una risorsa nell\'ambito.' })),
      sketch(comuni),
      answer.rows.length
        ? h('div', { class: 'card data-table' }, h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Tabella dei bisogni aperti (scorre in orizzontale)' }, table))
        : h('p', { text: 'Nessun bisogno aperto.' }),
      h('ul', { class: 'small muted' }, answer.notes.map((note) => h('li', { text: note }))));
  }

  await load();
}
