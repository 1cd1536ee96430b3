// Small SVG charts, no library: bars, lines, a 100% stacked bar and the sector picture of the
// cohesion network. Every chart is an <svg role="img"> with a text alternative and, next to
// it, the same numbers as a table (in a <details>) for screen readers and for copying.

import { h, uid } from './dom.js';
import { fmt } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';
// Colour-blind-safe palette (Okabe–Ito), all ≥ 3:1 on white for graphical objects.
export const COLORS = ['#0059b3', '#d55e00', '#00703c', '#8a4f9e', '#b07800', '#007f99', '#c0392b'];

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  const f = value / exp;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * exp;
}

function dataTable(caption, labels, series, format) {
  return h('details', { class: 'data-table' },
    h('summary', { text: 'Mostra i dati in tabella' }),
    h('div', { class: 'table-wrap' }, h('table', null,
      h('caption', { class: 'sr-only', text: caption }),
      h('thead', null, h('tr', null, h('th', { scope: 'col', text: '' }), series.map((x) => h('th', { scope: 'col', class: 'num', text: x.name })))),
      h('tbody', null, labels.map((labelText, i) => h('tr', null,
        h('th', { scope: 'row', text: labelText }),
        series.map((x) => h('td', { class: 'num', text: x.values[i] === null || x.values[i] === undefined ? 'n.d.' : (x.format || format)(x.values[i]) }))))))));
}

function legend(series) {
  return h('ul', { class: 'chart-legend' }, series.map((x, i) => h('li', null,
    h('span', { class: 'swatch', style: { background: x.color || COLORS[i % COLORS.length] }, 'aria-hidden': 'true' }), x.name)));
}

/**
 * Bars (grouped when several series) or lines over labelled periods.
 * options: title, labels, series [{name, values, color, format}], kind 'bar'|'line', format, summary.
 */
export function chart({ title, labels, series, kind = 'bar', format = fmt.number, summary }) {
  const width = 640;
  const height = 260;
  const pad = { l: 64, r: 16, t: 16, b: 42 };
  const innerW = width - pad.l - pad.r;
  const innerH = height - pad.t - pad.b;
  const all = series.flatMap((x) => x.values).filter((v) => typeof v === 'number');
  const max = niceMax(Math.max(0, ...all));
  const y = (v) => pad.t + innerH - (v / max) * innerH;
  const step = innerW / Math.max(1, labels.length);
  const titleId = uid('chart');
  const descId = uid('desc');
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
    s('title', { id: titleId }, title),
    s('desc', { id: descId }, summary || `${series.map((x) => x.name).join(', ')} per ${labels.length} periodi; i valori sono nella tabella sotto il grafico.`));
  for (let i = 0; i <= 4; i += 1) {
    const v = (max / 4) * i;
    svg.append(s('line', { class: 'grid-line', x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v) }),
      s('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, format(v)));
  }
  svg.append(s('line', { class: 'axis', x1: pad.l, x2: width - pad.r, y1: y(0), y2: y(0) }));
  const every = Math.ceil(labels.length / 12);
  labels.forEach((labelText, i) => {
    if (i % every === 0) svg.append(s('text', { x: pad.l + step * i + step / 2, y: height - pad.b + 18, 'text-anchor': 'middle' }, labelText));
  });
  series.forEach((x, k) => {
    const color = x.color || COLORS[k % COLORS.length];
    if (kind === 'bar') {
      const barW = Math.max(2, (step * 0.7) / series.length);
      x.values.forEach((v, i) => {
        if (typeof v !== 'number') return;
        const left = pad.l + step * i + step * 0.15 + barW * k;
        svg.append(s('rect', { x: left, y: y(v), width: barW, height: Math.max(0, y(0) - y(v)), fill: color },
          s('title', null, `${labels[i]}: ${(x.format || format)(v)}`)));
      });
    } else {
      const points = x.values.map((v, i) => (typeof v === 'number' ? `${pad.l + step * i + step / 2},${y(v)}` : null));
      const segments = [];
      let current = [];
      for (const p of points) {
        if (p) current.push(p); else if (current.length) { segments.push(current); current = []; }
      }
      if (current.length) segments.push(current);
      for (const seg of segments) svg.append(s('polyline', { points: seg.join(' '), fill: 'none', stroke: color, 'stroke-width': 3 }));
      x.values.forEach((v, i) => {
        if (typeof v === 'number') {
          svg.append(s('circle', { cx: pad.l + step * i + step / 2, cy: y(v), r: 4, fill: color }, s('title', null, `${labels[i]}: ${(x.format || format)(v)}`)));
        }
      });
    }
  });
  return h('figure', null, h('figcaption', { text: title }), svg, series.length > 1 ? legend(series) : null, dataTable(title, labels, series, format));
}

/** One 100% bar split in parts: parts [{name, value (share 0..1 or null)}]. */
export function stackedShare({ title, parts, summary }) {
  const width = 640;
  const height = 70;
  const titleId = uid('chart');
  const descId = uid('desc');
  const known = parts.filter((p) => typeof p.value === 'number');
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
    s('title', { id: titleId }, title),
    s('desc', { id: descId }, summary || parts.map((p) => `${p.name}: ${p.value === null ? 'non disponibile' : fmt.percent(p.value)}`).join('; ')));
  let x = 0;
  if (!known.length) {
    svg.append(s('rect', { x: 0, y: 10, width, height: 40, fill: '#eef1f4', stroke: '#8a949e' }),
      s('text', { x: width / 2, y: 35, 'text-anchor': 'middle' }, 'Nessun dato nel periodo'));
  }
  parts.forEach((p, i) => {
    if (typeof p.value !== 'number' || p.value <= 0) return;
    const w = p.value * width;
    svg.append(s('rect', { x, y: 10, width: w, height: 40, fill: p.color || COLORS[i % COLORS.length] }, s('title', null, `${p.name}: ${fmt.percent(p.value)}`)));
    if (w > 48) svg.append(s('text', { x: x + w / 2, y: 35, 'text-anchor': 'middle', fill: '#fff', 'font-weight': 700 }, fmt.percent(p.value)));
    x += w;
  });
  return h('figure', null, h('figcaption', { text: title }), svg, legend(parts),
    dataTable(title, parts.map((p) => p.name), [{ name: 'Quota', values: parts.map((p) => p.value), format: fmt.percent }], fmt.percent));
}

/**
 * The network picture, by sector only (no node is a person or an organisation): one circle
 * per sector sized by its nodes, one line per pair of sectors as thick as their ties.
 */
export function sectorPicture({ title, sectors, blocks, labels }) {
  const width = 640;
  const height = 320;
  const cx = width / 2;
  const cy = height / 2;
  const radius = 110;
  const titleId = uid('chart');
  const descId = uid('desc');
  const pos = {};
  sectors.forEach((sector, i) => {
    const angle = (2 * Math.PI * i) / Math.max(1, sectors.length) - Math.PI / 2;
    pos[sector.sector] = [cx + radius * Math.cos(angle), cy + radius * Math.sin(angle)];
  });
  const maxNodes = Math.max(1, ...sectors.map((x) => x.nodes || 0));
  const maxEdges = Math.max(1, ...blocks.map((b) => b.edges || 0));
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
    s('title', { id: titleId }, title),
    s('desc', { id: descId }, [
      sectors.map((x) => `${labels[x.sector] || x.sector}: ${x.nodes ?? 'meno di 5'} nodi`).join('; '),
      blocks.map((b) => `${labels[b.sector_a] || b.sector_a}–${labels[b.sector_b] || b.sector_b}: ${b.edges ?? 'meno di 5'} legami`).join('; '),
    ].filter(Boolean).join('. ')));
  for (const b of blocks) {
    const a = pos[b.sector_a];
    const c = pos[b.sector_b];
    if (!a || !c) continue;
    if (b.sector_a === b.sector_b) {
      svg.append(s('circle', { cx: a[0], cy: a[1] - 34, r: 16, fill: 'none', stroke: '#8a949e', 'stroke-width': b.edges ? 1 + (7 * b.edges) / maxEdges : 1, 'stroke-dasharray': b.edges === null ? '4 4' : null }));
      continue;
    }
    svg.append(s('line', { x1: a[0], y1: a[1], x2: c[0], y2: c[1], stroke: '#8a949e', 'stroke-width': b.edges ? 1 + (9 * b.edges) / maxEdges : 1, 'stroke-dasharray': b.edges === null ? '4 4' : null },
      s('title', null, `${b.edges ?? 'meno di 5'} legami`)));
  }
  sectors.forEach((x, i) => {
    const [px, py] = pos[x.sector];
    const r = 14 + 26 * Math.sqrt((x.nodes || 0) / maxNodes);
    svg.append(s('circle', { cx: px, cy: py, r, fill: COLORS[i % COLORS.length] }),
      s('text', { x: px, y: py + r + 16, 'text-anchor': 'middle', 'font-weight': 700 }, labels[x.sector] || x.sector),
      s('text', { x: px, y: py + 4, 'text-anchor': 'middle', fill: '#fff', 'font-weight': 700 }, x.nodes ?? '<5'));
  });
  return h('figure', null, h('figcaption', { text: title }), svg,
    h('p', { class: 'small muted', text: 'Cerchi: settori, con il numero di nodi. Linee: legami tra settori (tratteggiate se meno di 5, quindi non pubblicati).' }));
}
