// Home sections that depend on the later APIs (matches, contributions, plans, notifications).
// Each disappears quietly when its API is not on this server.

import { api } from './api.js';
import { h } from './dom.js';
import { matchBadge, needSummary } from './match-bits.js';
import { comuneNames, taxonomy } from './store.js';
import { emptyState, fmt, optional } from './ui.js';

export function matchesSection(ctx, lazySection) {
  const holderSide = ctx.session.role === 'holder_manager';
  return lazySection(holderSide ? 'Proposte da valutare' : 'Abbinamenti in attesa', 'home-matches', async () => {
    const page = await optional(api('/api/matches', { query: { status: holderSide ? 'proposed' : 'accepted', limit: 5 } }));
    if (!page) return null;
    const [tax, names] = await Promise.all([taxonomy(), comuneNames()]);
    if (!page.items.length) {
      return holderSide
        ? emptyState('Nessuna proposta da valutare', 'Quando un assistente sociale propone una delle vostre risorse per un bisogno, la trovi qui.')
        : emptyState('Nessun abbinamento da confermare', 'Gli abbinamenti accettati dagli enti compaiono qui per la tua conferma.');
    }
    return h('div', null,
      h('ul', { class: 'rules' }, page.items.map((m) => {
        const s = needSummary(m.need, tax, names);
        return h('li', null,
          h('div', null, h('strong', { text: m.resource_title }), h('div', { class: 'small muted', text: `${s.category} · ${s.comune} · ${s.schedule}` })),
          matchBadge(m.status));
      })),
      h('p', null, h('a', { class: 'btn btn-primary btn-small', href: '#/proposte' }, page.total > 1 ? `Vedi tutte (${page.total})` : 'Apri')));
  });
}

export function contributionsSection(ctx, lazySection) {
  return lazySection('Contributi da confermare', 'home-contrib', async () => {
    const page = await optional(api('/api/contributions', { query: { holder_id: ctx.user.holder_id, verification: 'self_reported', limit: 5 } }));
    if (!page) return null;
    if (!page.items.length) return emptyState('Niente da confermare', 'Le ore dichiarate dai volontari compaiono qui per la tua conferma.');
    return h('div', null,
      h('p', { text: page.total === 1 ? '1 contributo dichiarato aspetta la tua conferma.' : `${page.total} contributi dichiarati aspettano la tua conferma.` }),
      h('a', { class: 'btn btn-primary btn-small', href: '#/contributi' }, 'Apri i contributi'));
  });
}

export function hoursSection(ctx, lazySection) {
  return lazySection('Le mie ore', 'home-hours', async () => {
    const summary = await optional(api('/api/contributions/summary', { query: { volunteer_id: ctx.user.id } }));
    if (!summary) return null;
    const hours = summary.totals.find((t) => t.unit === 'hours');
    if (!hours) return emptyState('Nessuna ora registrata', 'Alla prossima attività inquadra il codice QR per registrare la presenza.', h('a', { href: '#/ore', text: 'Hai dimenticato? Dichiara le ore' }));
    return h('div', null,
      h('div', { class: 'stat-grid' },
        h('div', { class: 'stat' }, h('span', { class: 'value', text: fmt.number(hours.verified) }), h('span', { class: 'what', text: 'ore verificate' })),
        h('div', { class: 'stat' }, h('span', { class: 'value', text: fmt.number(hours.self_reported) }), h('span', { class: 'what', text: 'ore da confermare' }))),
      h('a', { href: '#/ore', text: 'Vedi il dettaglio' }));
  });
}

export function plansSection(ctx, lazySection) {
  return lazySection('I miei piani personalizzati', 'home-plans', async () => {
    const page = await optional(api('/api/plans', { query: { status: 'active', limit: 5 } }));
    if (!page) return null;
    const names = await comuneNames();
    if (!page.items.length) {
      return emptyState('Non hai piani attivi', 'Crea un piano per una persona o una famiglia: indica i bisogni e il registro suggerisce le risorse della comunità.',
        h('a', { class: 'btn btn-primary', href: '#/piani/nuovo' }, 'Nuovo piano'));
    }
    return h('div', null,
      h('ul', { class: 'rules' }, page.items.map((p) => h('li', null,
        h('a', { href: `#/piani/${p.id}`, text: p.case_code }),
        h('span', { class: 'small muted', text: `${names[p.comune] || p.comune} · aggiornato ${fmt.daysAgo(p.updated_at)}` })))),
      h('p', null, h('a', { href: '#/piani', text: `Tutti i piani (${page.total})` })));
  });
}

export function notificationsSection(ctx, lazySection) {
  return lazySection('Notifiche', 'home-notes', async () => {
    const page = await optional(api('/api/notifications', { query: { limit: 5 } }));
    if (!page) return null;
    const items = Array.isArray(page) ? page : page.items;
    if (!items.length) return emptyState('Nessuna notifica', null);
    return h('div', null,
      h('ul', { class: 'rules' }, items.slice(0, 5).map((n) => h('li', null,
        h('span', { text: n.title || n.subject || n.text || n.kind }),
        h('span', { class: 'small muted', text: fmt.dateTime(n.created_at) })))),
      h('a', { href: '#/notifiche', text: 'Tutte le notifiche' }));
  });
}
