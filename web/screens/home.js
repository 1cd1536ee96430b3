import { api, apiAll } from '../js/api.js';
import { h, clear, fill } from '../js/dom.js';
import { ROLES, count, label, plural } from '../js/i18n.js';
import { capacityText, confirmButton, freshnessBadge } from '../js/resource-bits.js';
import { ambito } from '../js/store.js';
import { emptyState, errorBox, fmt, loading, optional, pageHeader } from '../js/ui.js';
import * as extra from '../js/home-extra.js';

function section(title, id, ...content) {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id, text: title }), ...content);
}

/** A section that fills itself; errors stay inside it so the rest of the home still works. */
function lazySection(title, id, build) {
  const body = h('div', null, loading());
  const box = section(title, id, body);
  Promise.resolve().then(() => build(body)).then((content) => {
    if (content === null) box.remove();
    else if (content) fill(body, content);
  }).catch((error) => fill(body, errorBox(error)));
  return box;
}

/** The holder's own resources to confirm, from the server's count (same rule as the badges). */
function dueText(counts) {
  if (!counts.to_reconfirm && !counts.aging) return 'Tutte le tue risorse sono confermate di recente. Grazie!';
  const parts = [];
  if (counts.to_reconfirm) parts.push(`${count(counts.to_reconfirm, 'risorsa', 'risorse')} da riconfermare (${plural(counts.to_reconfirm, 'non è più proposta', 'non sono più proposte')} agli assistenti sociali)`);
  if (counts.aging) parts.push(`${count(counts.aging, 'risorsa', 'risorse')} da confermare (oltre ${counts.reminder_days} giorni dall'ultima conferma)`);
  return `${parts.join(' e ')}. Se sono ancora valide, basta un clic.`;
}

function stat(value, what, note) {
  return h('div', { class: 'stat' }, h('span', { class: 'value', text: value }), h('span', { class: 'what', text: what }), note ? h('span', { class: 'note', text: note }) : null);
}

export default async function home(root, ctx) {
  const { session, user } = ctx;
  const current = await ambito();
  const roleText = label(ROLES, session.role);

  if (session.role === 'holder_manager') {
    if (!user.holder_id) {
      root.append(pageHeader(`Benvenuto/a, ${user.username}`, { lead: `${roleText} · ${current.name}` }),
        emptyState('La tua organizzazione non è ancora nel registro', 'Registrala una volta sola: poi potrai inserire le risorse che offrite e rispondere alle richieste degli assistenti sociali.',
          h('a', { class: 'btn btn-primary', href: '#/ente' }, 'Registra la mia organizzazione')));
      return;
    }
    const holder = await api(`/api/holders/${user.holder_id}`);
    root.append(pageHeader(holder.name, {
      lead: `${roleText} · ${current.name}`,
      actions: [h('a', { class: 'btn btn-primary', href: '#/risorse/nuova' }, '+ Nuova risorsa'), h('a', { class: 'btn btn-secondary', href: '#/qr' }, 'Codici QR')],
    }));
    root.append(h('div', { class: 'grid-2' },
      h('div', null,
        lazySection('Da riconfermare', 'to-confirm', async () => {
          const [items, counts] = await Promise.all([
            apiAll('/api/resources', { holder_id: user.holder_id }),
            api('/api/resources/freshness', { query: { holder_id: user.holder_id } }),
          ]);
          if (!items.length) return emptyState('Non hai ancora risorse', 'Aggiungi ciò che la tua organizzazione offre.', h('a', { class: 'btn btn-primary', href: '#/risorse/nuova' }, 'Aggiungi una risorsa'));
          const list = h('ul', { class: 'rules' });
          const summary = h('p', { class: 'freshness-summary', text: dueText(counts) });
          const recount = () => api('/api/resources/freshness', { query: { holder_id: user.holder_id } })
            .then((fresh) => { summary.textContent = dueText(fresh); }).catch(() => {});
          const draw = () => {
            clear(list);
            for (const r of items) {
              const li = h('li', null,
                h('div', null, h('a', { href: `#/risorse/${r.id}`, text: r.title }), ' ', freshnessBadge(r)),
                confirmButton(r, (updated) => { Object.assign(r, updated); draw(); recount(); }, { compact: true }));
              list.append(li);
            }
          };
          draw();
          return h('div', null, summary, list);
        }),
        extra.matchesSection(ctx, lazySection)),
      h('div', null,
        extra.contributionsSection(ctx, lazySection),
        section('Cosa puoi fare', 'todo', h('ul', null,
          h('li', null, h('a', { href: '#/ente', text: 'Aggiornare il profilo dell\'organizzazione' })),
          h('li', null, h('a', { href: '#/risorse', text: 'Gestire risorse e orari' })),
          h('li', null, h('a', { href: '#/proposte', text: 'Rispondere alle proposte di abbinamento' })),
          h('li', null, h('a', { href: '#/qr', text: 'Stampare i codici QR per le presenze' })))))));
    return;
  }

  if (session.role === 'volunteer') {
    root.append(pageHeader(`Ciao, ${user.username}`, { lead: `${roleText} · ${current.name}` }));
    root.append(h('div', { class: 'grid-2' },
      h('div', null,
        section('Registrare una presenza', 'checkin',
          h('ol', null,
            h('li', { text: 'Inquadra con la fotocamera del telefono il codice QR esposto dove fai volontariato.' }),
            h('li', { text: 'Si apre una pagina del registro: premi «Entrata» quando arrivi e «Uscita» quando vai via.' }),
            h('li', { text: 'Le ore compaiono qui sotto, già verificate.' }))),
        extra.hoursSection(ctx, lazySection)),
      h('div', null, section('Scopri la comunità', 'explore', h('p', null, h('a', { href: '#/risorse', text: 'Cerca tra le risorse del registro' }), '.')))));
    return;
  }

  if (session.role === 'social_worker') {
    root.append(pageHeader(`Buon lavoro, ${user.username}`, {
      lead: `${roleText} · ${current.name}`,
      actions: [h('a', { class: 'btn btn-primary', href: '#/piani/nuovo' }, '+ Nuovo piano personalizzato')],
    }));
    root.append(h('div', { class: 'grid-2' },
      h('div', null, extra.plansSection(ctx, lazySection), extra.matchesSection(ctx, lazySection)),
      h('div', null,
        section('Cerca nella comunità', 'search-res',
          h('form', { role: 'search', onsubmit: (event) => { event.preventDefault(); ctx.navigate('/risorse', { q: event.target.q.value }); } },
            h('label', { for: 'home-q', text: 'Cosa serve?' }),
            h('div', { class: 'row' }, h('input', { id: 'home-q', name: 'q', type: 'search', placeholder: 'es. trasporto, compagnia' }), h('button', { type: 'submit', class: 'btn btn-primary', text: 'Cerca' })))),
        extra.notificationsSection(ctx, lazySection))));
    return;
  }

  // Ufficio di Piano
  root.append(pageHeader(`Ufficio di Piano · ${current.name}`, {
    lead: `Il quadro dell'ambito: ${current.comuni.length} comuni.`,
    actions: [h('a', { class: 'btn btn-primary', href: '#/cruscotto' }, 'Apri il cruscotto')],
  }));
  root.append(lazySection('La rete in numeri', 'numbers', async () => {
    const [holders, resources, counts, users] = await Promise.all([
      api('/api/holders', { query: { limit: 1 } }),
      apiAll('/api/resources'),
      api('/api/resources/freshness'),
      api('/api/users'),
    ]);
    // The counts and the red badges of the lists come from the same rule on the server.
    const confirmed = counts.fresh + counts.aging;
    return h('div', { class: 'stat-grid' },
      stat(fmt.number(holders.total), plural(holders.total, 'ente o realtà registrati', 'enti e realtà registrati')),
      stat(fmt.number(resources.length), plural(resources.length, 'risorsa nel registro', 'risorse nel registro')),
      stat(counts.total ? fmt.percent(confirmed / counts.total) : '—', `risorse confermate negli ultimi ${counts.stale_days} giorni`, 'freschezza dei dati'),
      h('div', { class: 'stat', id: 'stat-to-reconfirm' }, h('span', { class: 'value', text: fmt.number(counts.to_reconfirm) }), h('span', { class: 'what', text: `${plural(counts.to_reconfirm, 'risorsa', 'risorse')} da riconfermare` }), h('span', { class: 'note', text: `non confermate da ${counts.stale_days} giorni o più` })),
      stat(fmt.number(users.filter((u) => u.active).length), 'utenti attivi'));
  }));
  root.append(h('div', { class: 'grid-2' },
    h('div', null,
      lazySection('Risorse meno aggiornate', 'oldest', async () => {
        const resources = await apiAll('/api/resources');
        const oldest = resources.sort((a, b) => a.confirmed_at.localeCompare(b.confirmed_at)).slice(0, 6);
        if (!oldest.length) return emptyState('Nessuna risorsa nel registro', 'Gli enti inseriscono le risorse dal loro account.');
        return h('ul', { class: 'rules' }, oldest.map((r) => h('li', null,
          h('div', null, h('a', { href: `#/risorse/${r.id}`, text: r.title }), h('div', { class: 'small muted', text: `${r.holder_name} · ${capacityText(r)}` })),
          freshnessBadge(r))));
      })),
    h('div', null,
      extra.notificationsSection(ctx, lazySection),
      section('Gestione', 'admin', h('ul', null,
        h('li', null, h('a', { href: '#/utenti', text: 'Utenti e ruoli' })),
        h('li', null, h('a', { href: '#/enti', text: 'Enti della comunità' })),
        h('li', null, h('a', { href: '#/interventi', text: 'Interventi finanziati e importazione da foglio di calcolo' })),
        h('li', null, h('a', { href: '#/cruscotto', text: 'Cruscotto ed esportazioni' })),
        h('li', null, h('a', { href: '#/tariffe', text: 'Tariffe orarie e interazioni tra enti' })))))));
}

export { optional };
