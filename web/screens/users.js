import { api, apiAll } from '../js/api.js';
import { h, clear, responsive } from '../js/dom.js';
import { ROLES, count, label } from '../js/i18n.js';
import {
  announce, busy, emptyState, field, flash, fmt, input, openDialog, pageHeader, select, showFormError,
} from '../js/ui.js';

const LABELS = { username: 'Nome utente', password: 'Password', role: 'Ruolo', holder_id: 'Ente' };

export default async function users(root, { user: self }) {
  const [list, holders] = await Promise.all([api('/api/users'), apiAll('/api/holders')]);
  const holderName = Object.fromEntries(holders.map((x) => [x.id, x.name]));
  const tableHolder = h('div');
  const filter = select('role', Object.entries(ROLES), '', { placeholder: 'Tutti i ruoli' });
  filter.addEventListener('change', draw);

  function draw() {
    const shown = list.filter((u) => !filter.value || u.role === filter.value);
    clear(tableHolder);
    if (!shown.length) {
      tableHolder.append(emptyState('Nessun utente con questo ruolo', 'Crea un account con «Nuovo utente».'));
      return;
    }
    tableHolder.append(h('div', { class: 'table-wrap' }, responsive(h('table', null,
      h('caption', { text: count(shown.length, 'utente', 'utenti') }),
      h('thead', null, h('tr', null, ['Nome utente', 'Ruolo', 'Ente', 'Creato il', 'Stato', 'Azioni'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, shown.map((u) => {
        const toggle = h('button', {
          type: 'button', class: ['btn', 'btn-small', u.active ? 'btn-danger' : 'btn-secondary'],
          disabled: u.id === self.id,
          'aria-label': `${u.active ? 'Disattiva' : 'Riattiva'} ${u.username}`,
          title: u.id === self.id ? 'Non puoi disattivare il tuo account' : undefined,
        }, u.active ? 'Disattiva' : 'Riattiva');
        toggle.addEventListener('click', async () => {
          try {
            const updated = await busy(toggle, () => api(`/api/users/${u.id}`, { method: 'PATCH', body: { active: !u.active } }));
            Object.assign(u, updated);
            flash(`${u.username}: account ${u.active ? 'riattivato' : 'disattivato'}.`);
            draw();
          } catch (error) {
            flash(error.message, 'error');
          }
        });
        const reset = u.active && u.id !== self.id
          ? h('button', { type: 'button', class: 'btn btn-small btn-secondary', 'aria-label': `Link nuova password per ${u.username}` }, 'Link nuova password')
          : null;
        if (reset) reset.addEventListener('click', () => resetLink(u, reset));
        return h('tr', null,
          h('th', { scope: 'row', text: u.username }),
          h('td', { text: label(ROLES, u.role) }),
          h('td', null, u.holder_id ? h('a', { href: `#/enti/${u.holder_id}`, text: holderName[u.holder_id] || 'ente' }) : '—'),
          h('td', { text: fmt.date(u.created_at) }),
          h('td', null, h('span', { class: ['badge', u.active ? 'badge-success' : 'badge-neutral'], text: u.active ? 'Attivo' : 'Disattivato' })),
          h('td', null, toggle, reset ? ' ' : null, reset));
      }))))));
  }

  // A one-time link (valid one hour) the UdP hands over in person or by phone: the user opens
  // it and chooses a new password. The address is shown once and never stored by the page.
  async function resetLink(u, button) {
    try {
      const link = await busy(button, () => api(`/api/users/${u.id}/password-reset`, { method: 'POST' }));
      const box = input('reset-url', link.url, { readonly: true });
      const copy = h('button', { type: 'button', class: 'btn btn-primary', text: 'Copia il link' });
      copy.addEventListener('click', async () => {
        box.select();
        try { await navigator.clipboard.writeText(link.url); flash('Link copiato.'); } catch { document.execCommand('copy'); }
      });
      const dialog = openDialog(`Nuova password per ${u.username}`, h('div', { class: 'stack' },
        h('p', { text: `Consegna questo link a ${u.username}: vale una sola volta, fino a ${fmt.dateTime(link.expires_at)}. Non inviarlo in chiaro a indirizzi condivisi.` }),
        field('Link', box),
        h('div', { class: 'actions' }, copy, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Chiudi'))));
      box.select();
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  const REASONS = { wrong_password: 'Password errata', inactive: 'Account disattivato', wrong_current_password: 'Password attuale errata (cambio password)' };
  async function failures() {
    try {
      const rows = await api('/api/users/login-failures', { query: { limit: 200 } });
      const body = rows.length
        ? h('div', { class: 'table-wrap' }, h('table', null,
          h('caption', { text: `${rows.length} accessi non riusciti (ultimi 30 giorni)` }),
          h('thead', null, h('tr', null, ['Quando', 'Nome utente', 'Indirizzo', 'Motivo'].map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', null, rows.map((r) => h('tr', null,
            h('td', { text: fmt.dateTime(r.at) }),
            h('th', { scope: 'row', text: r.username }),
            h('td', { text: r.address }),
            h('td', { text: REASONS[r.reason] || r.reason }))))))
        : emptyState('Nessun accesso non riuscito', 'Negli ultimi 30 giorni nessun utente dell\'ambito ha sbagliato la password.');
      openDialog('Accessi non riusciti', body, { wide: true });
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  function create() {
    const role = select('role', Object.entries(ROLES), 'holder_manager');
    const holder = select('holder_id', holders.map((x) => [x.id, x.name]), '', { placeholder: 'Nessuno (si registrerà da sé)' });
    const holderField = field('Ente gestito', holder, { hint: 'Per i referenti: l\'ente di cui gestiranno profilo e risorse. Per i volontari: facoltativo.' });
    const sync = () => { holderField.hidden = !['holder_manager', 'volunteer'].includes(role.value); };
    role.addEventListener('change', sync);
    sync();
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Crea l\'account' });
    const form = h('form', { novalidate: true },
      field('Nome utente', input('username', '', { autocomplete: 'off', autocapitalize: 'none', pattern: '[a-z0-9._-]+' }), { required: true, hint: 'Minuscole, cifre, punto, trattino; almeno 3 caratteri' }),
      field('Password iniziale', input('password', '', { type: 'password', autocomplete: 'new-password', minlength: 8 }), { required: true, hint: 'Almeno 8 caratteri: comunicala di persona' }),
      field('Ruolo', role, { required: true }),
      holderField,
      h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dialog.close() }, 'Annulla')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const body = { username: data.get('username').trim(), password: data.get('password'), role: data.get('role') };
      if (!holderField.hidden && data.get('holder_id')) body.holder_id = data.get('holder_id');
      try {
        const created = await busy(submit, () => api('/api/users', { method: 'POST', body }), 'Creazione…');
        list.push(created);
        list.sort((a, b) => a.username.localeCompare(b.username));
        dialog.close();
        flash(`Account «${created.username}» creato (${label(ROLES, created.role)}).`);
        draw();
      } catch (error) {
        showFormError(form, error, LABELS);
      }
    });
    const dialog = openDialog('Nuovo utente', form);
    form.querySelector('input').focus();
  }

  root.append(pageHeader('Utenti', {
    lead: 'Gli account dell\'ambito. Un account disattivato non può più accedere; il suo storico resta.',
    actions: [
      h('button', { type: 'button', class: 'btn btn-secondary', onclick: failures }, 'Accessi non riusciti'),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: create }, '+ Nuovo utente'),
    ],
  }), h('div', { class: 'filters' }, h('div', { class: 'row' }, field('Mostra', filter))), tableHolder);
  draw();
  announce(count(list.length, 'utente', 'utenti'));
}
