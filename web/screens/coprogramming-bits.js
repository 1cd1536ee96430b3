// Pieces shared by the co-programming screens (issue 16): status badges, the documents'
// export, and the proposals beside the gap map the UdP looks at when preparing a session.

import { api, download } from '../js/api.js';
import { h, fill } from '../js/dom.js';
import { DOCUMENT_STATUS, PROCEDURE_STATUS, count, label } from '../js/i18n.js';
import { taxonomy } from '../js/store.js';
import { badge, errorBox, flash, fmt, loading } from '../js/ui.js';

const STATUS_KIND = { draft: 'neutral', open: 'info', running: 'fresh', closed: 'neutral' };

export function procedureBadge(status) {
  return badge(label(PROCEDURE_STATUS, status), STATUS_KIND[status] || 'neutral');
}

export function documentBadge(status) {
  if (!status) return badge('Nessun verbale', 'neutral');
  return badge(label(DOCUMENT_STATUS, status), status === 'approved' ? 'fresh' : 'aging');
}

/** «12 maggio 2026, 17:30» in the ambito's time (the browser's zone is the ambito's). */
export function when(value) {
  return fmt.dateTime(value);
}

/** Minutes or summary as HTML, PDF or ODT (rendered by the server in a worker). */
export function exportButtons(path, name) {
  const save = (format) => async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await download(`${path}/document`, { format }, `${name}.${format}`);
    } catch (error) {
      flash(error.message, 'error');
    } finally {
      button.disabled = false;
    }
  };
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: save('html'), 'aria-label': `Scarica HTML: ${name}` }, 'Scarica HTML'),
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: save('pdf'), 'aria-label': `Scarica PDF: ${name}` }, 'Scarica PDF'),
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', onclick: save('odt'), 'aria-label': `Scarica ODT (modificabile): ${name}` }, 'Scarica ODT (modificabile)'));
}

/**
 * The document's text, always as text (never HTML): blank lines part paragraphs, «# » lines
 * are headings (under the screen's own), «- » lines a list — the plain layout the
 * minutes and summary are drafted in (registry/coprogramming/document.py).
 */
export function documentText(content, { level = 3 } = {}) {
  const box = h('div', { class: 'document-text' });
  let list = null;
  let paragraph = null;
  for (const line of String(content || '').split('\n')) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^\s*[-*]\s+(.*)$/.exec(line);
    if (!line.trim()) {
      list = null;
      paragraph = null;
    } else if (heading) {
      list = null;
      paragraph = null;
      box.append(h(`h${Math.min(6, level + heading[1].length - 1)}`, { text: heading[2] }));
    } else if (item) {
      paragraph = null;
      if (!list) box.append(list = h('ul'));
      list.append(h('li', { text: item[1] }));
    } else if (paragraph) {
      paragraph.append(h('br'), line);
    } else {
      list = null;
      box.append(paragraph = h('p', { text: line }));
    }
  }
  return box;
}

/**
 * Proposals gathered so far next to the gap map: what the tables proposed, by category, and
 * the categories with open needs and no resource. Seen together when preparing a session so the
 * next tables can be asked about what nobody covers yet.
 */
export function proposalsBesideGaps(procedureId) {
  const box = h('section', { class: 'card', 'aria-labelledby': 'prep-title' },
    h('h2', { id: 'prep-title', text: 'Proposte e bisogni scoperti' }),
    h('p', { class: 'small muted', text: 'Per preparare la prossima sessione: le proposte emerse dai tavoli accanto ai bisogni aperti dei piani e alle categorie per cui nell\'ambito non c\'è alcuna risorsa.' }),
    loading());
  (async () => {
    let proposals;
    let gaps;
    let terms;
    try {
      [proposals, gaps, terms] = await Promise.all([
        api(`/api/coprogramming/procedures/${procedureId}/proposals`),
        api('/api/gap-map').catch(() => null),
        taxonomy().catch(() => ({ byCode: {} })),
      ]);
    } catch (error) {
      box.lastChild.replaceWith(errorBox(error));
      return;
    }
    const name = (code) => terms.byCode[code]?.name ?? code;
    const uncovered = new Set((gaps?.uncovered ?? []).map((u) => u.category_code));
    const open = new Map((gaps?.rows ?? []).map((row) => [row.category_code, row]));
    const byCategory = new Map();
    for (const p of proposals) {
      const key = p.category_code || '';
      if (!byCategory.has(key)) byCategory.set(key, []);
      byCategory.get(key).push(p);
    }
    const left = h('div', null, h('h3', { text: `Proposte dei tavoli (${fmt.number(proposals.length)})` }),
      proposals.length
        ? h('ul', { class: 'plain-list' }, [...byCategory.entries()].map(([code, items]) => h('li', null,
          h('strong', { text: code ? name(code) : 'Senza categoria' }),
          code && uncovered.has(code) ? [' ', badge('bisogno senza risorse', 'warning')] : null,
          code && open.has(code) && open.get(code).total !== null ? h('span', { class: 'small muted', text: ` · ${count(open.get(code).total, 'bisogno aperto', 'bisogni aperti')}` }) : null,
          h('ul', null, items.map((p) => h('li', null, p.text, h('span', { class: 'small muted', text: ` — ${p.table_theme}${p.holder_name ? `, ${p.holder_name}` : ''}` })))))))
        : h('p', { text: 'Nessuna proposta ancora: i tavoli le registrano alla domanda «Proposte concrete».' }));
    const right = h('div', null, h('h3', { text: 'Bisogni scoperti' }));
    if (!gaps) {
      right.append(h('p', { class: 'small muted', text: 'La mappa dei bisogni non è disponibile.' }));
    } else {
      const proposed = new Set(proposals.map((p) => p.category_code).filter(Boolean));
      right.append(
        gaps.uncovered.length
          ? h('ul', null, gaps.uncovered.map((u) => h('li', null, u.category_name, ': ',
            u.open_needs === null ? 'pochi casi' : count(u.open_needs, 'bisogno aperto', 'bisogni aperti'),
            proposed.has(u.category_code) ? [' ', badge('c\'è una proposta', 'fresh')] : [' ', badge('nessuna proposta', 'warning')])))
          : h('p', { text: 'Ogni categoria con bisogni aperti ha almeno una risorsa nell\'ambito.' }),
        h('p', { class: 'small' }, h('a', { href: '#/lacune', text: 'Apri la mappa dei bisogni scoperti' })));
    }
    fill(box, box.firstChild, box.children[1], h('div', { class: 'grid-even' }, left, right));
  })();
  return box;
}
