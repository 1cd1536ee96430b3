import { api, apiAll } from '../js/api.js';
import { h, clear, responsive } from '../js/dom.js';
import { ROLES, label } from '../js/i18n.js';
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
      h('caption', { text: `${shown.length} utenti` }),
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
        return h('tr', null,
          h('th', { scope: 'row', text: u.username }),
          h('td', { text: label(ROLES, u.role) }),
          h('td', null, u.holder_id ? h('a', { href: `#/enti/${u.holder_id}`, text: holderName[u.holder_id] || 'ente' }) : '—'),
          h('td', { text: fmt.date(u.created_at) }),
          h('td', null, h('span', { class: ['badge', u.active ? 'badge-success' : 'badge-neutral'], text: u.active ? 'Attivo' : 'Disattivato' })),
          h('td', null, toggle));
      }))))));
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
    actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: create }, '+ Nuovo utente')],
  }), h('div', { class: 'filters' }, h('div', { class: 'row' }, field('Mostra', filter))), tableHolder);
  draw();
  announce(`${list.length} utenti`);
}
