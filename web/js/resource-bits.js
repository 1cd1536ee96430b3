// Pieces shared by the resource screens: the "still true" button, labels, the category select.

import { api } from './api.js';
import { h, clear, fill } from './dom.js';
import { AREAS, LANGUAGES, UNITS, label, listWithOthers, quantity } from './i18n.js';
import { badge, busy, checkboxGroup, flash, fmt, freshness } from './ui.js';

export function canEdit(session, user, resource) {
  return session.role === 'udp_admin' || (session.role === 'holder_manager' && user?.holder_id === resource.holder_id);
}

export function freshnessBadge(resource) {
  const [kind, text] = freshness(resource);
  return badge(text, kind);
}

/**
 * One-click reconfirmation. After success the badge and the text next to it are refreshed
 * through onDone(resource).
 */
export function confirmButton(resource, onDone, { compact = false } = {}) {
  const button = h('button', {
    type: 'button',
    class: ['btn', 'btn-success', compact ? 'btn-small' : null],
    'aria-label': compact ? `Confermo che «${resource.title}» è ancora valida` : undefined,
  }, compact ? 'Ancora valida' : 'Sì, è ancora tutto vero');
  button.addEventListener('click', async () => {
    try {
      const updated = await busy(button, () => api(`/api/resources/${resource.id}/confirm`, { method: 'POST' }), 'Conferma…');
      flash(`Grazie: «${updated.title}» risulta confermata oggi.`);
      if (onDone) onDone(updated);
    } catch (error) {
      flash(error.message, 'error');
    }
  });
  return button;
}

export function comuniText(codes, names, max = 3) {
  if (!codes || !codes.length) return 'tutto l\'ambito';
  return listWithOthers(codes.map((c) => names[c] || c), max);
}

export function areasText(codes) {
  return codes && codes.length ? codes.map((c) => label(AREAS, c)).join(', ') : '—';
}

/**
 * Languages by their Italian names (the API stores ISO 639-1 codes): Italian first, then
 * alphabetical; a code already stored but not in the list stays, checked.
 */
export function languageGroup(selected = [], { legend = 'Lingue', hint } = {}) {
  const known = Object.entries(LANGUAGES)
    .sort(([a, x], [b, y]) => (a === 'it' ? -1 : b === 'it' ? 1 : x.localeCompare(y, 'it')));
  const extra = selected.filter((code) => !LANGUAGES[code]).map((code) => [code, code]);
  return checkboxGroup(legend, 'languages', [...known, ...extra], selected, { hint, columns: true });
}

export function languagesText(codes) {
  return codes && codes.length ? codes.map((c) => LANGUAGES[c] || c).join(', ') : '—';
}

export function unitText(unit) {
  return label(UNITS, unit);
}

/** '1 viaggio', '3 posti': the capacity with its unit in agreement. */
export function capacityText(resource) {
  return quantity(resource.capacity, resource.unit);
}

/** A <select> of categories, grouped by their top-level term. */
export function categorySelect(tax, value, { name = 'category_code', placeholder } = {}) {
  const sel = h('select', { name });
  if (placeholder !== undefined) sel.append(h('option', { value: '', text: placeholder }));
  for (const root of tax.roots) {
    const group = h('optgroup', { label: root.name });
    group.append(h('option', { value: root.code, text: `${root.name} (tutta la categoria)`, selected: root.code === value }));
    for (const child of tax.children[root.code] || []) {
      group.append(h('option', { value: child.code, text: child.name, selected: child.code === value }));
      for (const grandchild of tax.children[child.code] || []) {
        group.append(h('option', { value: grandchild.code, text: `— ${grandchild.name}`, selected: grandchild.code === value }));
      }
    }
    sel.append(group);
  }
  return sel;
}

export function refreshInto(holder, build) {
  fill(holder, build());
}

export { fmt };
