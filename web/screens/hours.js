import { api, apiAll } from '../js/api.js';
import { h, fill } from '../js/dom.js';
import { contributionsTable, recordForm, totalsGrid } from '../js/contribution-bits.js';
import { emptyState, errorBox, flash, loading, openDialog, pageHeader } from '../js/ui.js';

export default async function hours(root, { user, query = {}, replaceQuery }) {
  const totals = h('div');
  const list = h('div');

  async function load() {
    fill(list, loading());
    api('/api/contributions/summary', { query: { volunteer_id: user.id } })
      .then((summary) => fill(totals, totalsGrid(summary) || emptyState('Ancora nessuna ora registrata', 'Alla prossima attività inquadra il codice QR esposto sul posto: le ore si registrano da sole.')))
      .catch((error) => fill(totals, errorBox(error)));
    try {
      const page = await api('/api/contributions', { query: { volunteer_id: user.id, limit: 100 } });
      fill(list, page.items.length ? contributionsTable(page, { onChange: load, canConfirm: () => false, showVolunteer: false }) : null);
    } catch (error) {
      fill(list, errorBox(error, { retry: load }));
    }
  }

  async function declare() {
    const holders = await apiAll('/api/holders');
    const dialog = openDialog('Dichiara le ore', recordForm({
      holders: user.holder_id ? null : holders,
      volunteerMode: true,
      onSaved: async () => { dialog.close(); flash('Ore dichiarate: l\'ente le confermerà.'); await load(); },
      onCancel: () => dialog.close(),
    }));
    dialog.querySelector('select, input').focus();
  }

  root.append(pageHeader('Le mie ore', {
    lead: 'Le ore registrate con il codice QR sono già verificate. Se hai dimenticato di registrarti, dichiarale qui: l\'ente le confermerà.',
    actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: declare }, '+ Dichiara ore')],
  }), totals, list);
  await load();
  // The check-in page's «Dichiara ore a mano» link lands here with the form open.
  if (query.dichiara) {
    replaceQuery({});
    setTimeout(declare, 0);
  }
}
