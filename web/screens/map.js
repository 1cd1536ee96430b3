// The map of the resources: each comune of the ambito at its centroid, a circle sized by
// how many resources serve it. Drawn as SVG from the registry's own GeoJSON: no tile server
// can be reached and the CSP allows only 'self'. A table gives the same figures.

import { api } from '../js/api.js';
import { h, responsive } from '../js/dom.js';
import { count, formatNumber } from '../js/i18n.js';
import { emptyState, pageHeader } from '../js/ui.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const PAD = 48;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** Longitude/latitude to the drawing's x/y: equirectangular, shrunk by the latitude's cosine. */
function projection(points) {
  const lons = points.map(([lon]) => lon);
  const lats = points.map(([, lat]) => lat);
  const [west, east, south, north] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const k = Math.cos(((south + north) / 2) * (Math.PI / 180));
  const spanX = Math.max((east - west) * k, 1e-3);
  const spanY = Math.max(north - south, 1e-3);
  const scale = (WIDTH - 2 * PAD) / Math.max(spanX, spanY);
  const height = Math.round(spanY * scale + 2 * PAD);
  return {
    height,
    xy: ([lon, lat]) => [PAD + (lon - west) * k * scale, PAD + (north - lat) * scale],
  };
}

function drawing(features) {
  const located = features.filter((f) => f.geometry && f.geometry.coordinates);
  const { height, xy } = projection(located.map((f) => f.geometry.coordinates));
  const most = Math.max(1, ...located.map((f) => f.properties.resource_count));
  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${height}`, class: 'resource-map', role: 'group',
    'aria-label': 'Mappa dei comuni dell\'ambito: ogni cerchio è grande quanto il numero di risorse',
  });
  // Largest circles first, so the small ones stay on top and clickable.
  const ordered = [...located].sort((a, b) => b.properties.resource_count - a.properties.resource_count);
  for (const f of ordered) {
    const { name, istat_code: code, resource_count: n } = f.properties;
    const [x, y] = xy(f.geometry.coordinates);
    const r = n ? 6 + 22 * Math.sqrt(n / most) : 4;
    const link = s('a', { href: `#/risorse?comune=${code}`, 'aria-label': `${name}: ${count(n, 'risorsa', 'risorse')}`, class: n ? 'comune has' : 'comune none' },
      s('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: r.toFixed(1) }),
      // The name, then the number (a space apart in the text): the link's accessible name
      // starts with what is visible, as WCAG's «label in name» asks.
      s('text', { x: (x + r + 3).toFixed(1), y: (y + 4).toFixed(1), class: 'name' }, document.createTextNode(name)),
      n ? s('text', { x: x.toFixed(1), y: (y + 4).toFixed(1), 'text-anchor': 'middle', class: 'count' }, document.createTextNode(` ${formatNumber(n)}`)) : null);
    svg.append(link);
  }
  return svg;
}

function table(features) {
  const rows = [...features].sort((a, b) => b.properties.resource_count - a.properties.resource_count || a.properties.name.localeCompare(b.properties.name, 'it'));
  return h('div', { class: 'table-wrap' }, responsive(h('table', null,
    h('caption', { text: 'Risorse per comune' }),
    h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Comune' }), h('th', { scope: 'col', class: 'num', text: 'Risorse' }), h('th', { scope: 'col', text: 'Categorie' }))),
    h('tbody', null, rows.map((f) => {
      const p = f.properties;
      const categories = [...new Set((p.resources || []).map((r) => r.category))].join(', ');
      return h('tr', null,
        h('th', { scope: 'row' }, h('a', { href: `#/risorse?comune=${p.istat_code}`, text: p.name })),
        h('td', { class: 'num', text: formatNumber(p.resource_count) }),
        h('td', { text: categories || '—' }));
    })))));
}

export default async function map(root) {
  const collection = await api('/api/interop/geojson/resources');
  const features = collection.features || [];
  root.append(pageHeader('Mappa delle risorse', {
    lead: 'Dove arrivano le risorse della comunità: ogni comune dell\'ambito, con un cerchio grande quanto il numero di risorse che lo servono. Un clic su un comune apre le sue risorse.',
  }));
  if (!features.length) {
    root.append(emptyState('Nessun comune da mostrare', 'L\'ambito non ha ancora comuni con una posizione nota.'));
    return;
  }
  const served = features.filter((f) => f.properties.resource_count > 0).length;
  root.append(
    h('section', { class: 'card', 'aria-labelledby': 'map-title' },
      h('h2', { id: 'map-title', text: `${count(served, 'comune servito', 'comuni serviti')} su ${formatNumber(features.length)}` }),
      h('div', { class: 'map-wrap' }, drawing(features)),
      collection.unlocated ? h('p', { class: 'small muted', text: `${count(collection.unlocated, 'comune senza posizione nota', 'comuni senza posizione nota')}: ${collection.unlocated === 1 ? 'è' : 'sono'} nella tabella.` }) : null,
      h('p', { class: 'small muted', text: 'Le risorse sono poste sui comuni che servono, mai all\'indirizzo di chi le offre.' })),
    h('section', { class: 'card', 'aria-labelledby': 'map-table' }, h('h2', { id: 'map-table', text: 'I numeri della mappa' }), table(features)));
}
