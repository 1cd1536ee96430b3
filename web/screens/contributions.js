import { api, apiAll } from '../js/api.js';
import { h, fill } from '../js/dom.js';
import { contributionsTable, recordForm, totalsGrid } from '../js/contribution-bits.js';
import { CONTRIBUTION_UNITS, VERIFICATION } from '../js/i18n.js';
import { errorBox, field, flash, input, loading, openDialog, pageHeader, select } from '../js/ui.js';

const PAGE = 50;

export default async function contributions(root, { session, user, query, replaceQuery }) {
  const holderSide = session.role === 'holder_manager';
  // A social worker comes here for the entries of its plans waiting for its confirmation.
  const planSide = session.role === 'social_worker';
  const state = {
    verification: query.verification ?? (holderSide ? 'self_reported' : ''), unit: query.unit || '',
    // By default a social worker sees only the entries waiting for its own confirmation.
    awaiting: planSide && query.attesa !== 'no',
    from: query.from || '', to: query.to || '', offset: 0,
  };
  const totals = h('div');
  const list = h('div');
  const verification = select('verification', Object.entries(VERIFICATION), state.verification, { placeholder: 'Tutte' });
  const unit = select('unit', Object.entries(CONTRIBUTION_UNITS), state.unit, { placeholder: 'Tutte' });
  const from = input('from', state.from, { type: 'date' });
  const to = input('to', state.to, { type: 'date' });
  const awaiting = planSide ? h('input', { type: 'checkbox', id: 'awaiting-mine', name: 'awaiting', checked: state.awaiting }) : null;
  const filters = h('form', { class: 'filters', 'aria-label': 'Filtra i contributi' },
    awaiting ? h('div', { class: 'check' }, awaiting, h('label', { for: 'awaiting-mine', text: 'Solo quelli che aspettano la mia conferma' })) : null,
    h('div', { class: 'row' }, field('Verifica', verification), field('Unità', unit), field('Dal', from), field('Al', to),
      h('button', { type: 'submit', class: 'btn btn-primary', text: 'Applica' })));
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    Object.assign(state, { verification: verification.value, unit: unit.value, from: from.value, to: to.value, offset: 0, awaiting: Boolean(awaiting?.checked) });
    load();
  });

  const scope = holderSide && user.holder_id ? { holder_id: user.holder_id } : {};
  async function load() {
    replaceQuery({ verification: state.verification, unit: state.unit, from: state.from, to: state.to, attesa: planSide && !state.awaiting ? 'no' : undefined });
    fill(list, loading());
    // The totals and the list load apart: one failing does not hide the other.
    api('/api/contributions/summary', { query: { ...scope, from: state.from, to: state.to } })
      .then((summary) => fill(totals, totalsGrid(summary)))
      .catch((error) => fill(totals, errorBox(error)));
    try {
      const page = await api('/api/contributions', { query: { ...scope, verification: state.verification, unit: state.unit, from: state.from, to: state.to, awaiting_confirmation: state.awaiting ? 'true' : undefined, limit: PAGE, offset: state.offset } });
      fill(list, h('p', { class: 'muted', role: 'status', text: `${page.total} registrazioni` }), contributionsTable(page, {
        onChange: load,
        canAmend: () => session.role !== 'social_worker',
      }));
    } catch (error) {
      fill(list, errorBox(error, { retry: load }));
    }
  }

  async function recordForPlan() {
    const { CONTRIBUTING, matchContributionDialog } = await import('../js/plan-contribution.js');
    const matches = (await apiAll('/api/matches')).filter((m) => CONTRIBUTING.has(m.status));
    if (!matches.length) { flash('Nessun abbinamento accettato nei tuoi piani: un contributo si registra per un abbinamento accettato, attivo o concluso.', 'warning'); return; }
    const choice = select('match_id', matches.map((m) => [m.id, `${m.resource_title} — ${m.holder_name}`]), matches[0].id);
    const go = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Continua' });
    const form = h('form', { novalidate: true }, field('Abbinamento', choice), h('div', { class: 'actions' }, go));
    const picker = openDialog('Per quale abbinamento?', form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const match = matches.find((m) => m.id === choice.value);
      picker.close();
      matchContributionDialog(match, async () => { flash('Contributo registrato.'); await load(); });
    });
    choice.focus();
  }

  async function record() {
    if (planSide) { await recordForPlan(); return; }
    const [resources, activities, holders] = await Promise.all([
      holderSide && user.holder_id ? apiAll('/api/resources', { holder_id: user.holder_id }) : Promise.resolve([]),
      api('/api/activities', { query: { limit: 100 } }).then((p) => p.items || p).catch(() => []),
      session.role === 'udp_admin' ? apiAll('/api/holders') : Promise.resolve(null),
    ]);
    const dialog = openDialog('Registra un contributo', recordForm({
      holders, resources, activities,
      onSaved: async () => { dialog.close(); flash('Contributo registrato.'); await load(); },
      onCancel: () => dialog.close(),
    }), { wide: true });
    dialog.querySelector('input, select').focus();
  }

  root.append(pageHeader(holderSide ? 'Contributi della mia organizzazione' : planSide ? 'Contributi per i miei piani' : 'Registro dei contributi', {
    lead: holderSide
      ? 'Le ore e i beni dati alla comunità. Conferma quelli dichiarati dai volontari: solo i contributi verificati contano nelle statistiche.'
      : planSide ? 'Le ore e i beni dati per i piani che segui. Conferma quelli dichiarati «da confermare»: solo i contributi verificati contano nelle statistiche.'
      : 'Ogni registrazione resta nello storico: una correzione o un annullamento è una nuova registrazione.',
    actions: [h('button', { type: 'button', class: 'btn btn-primary', onclick: record }, '+ Registra un contributo')],
  }), totals, filters, list);
  await load();
}
