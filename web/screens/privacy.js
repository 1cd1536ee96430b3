// Personal data (issue 19). Every user: «I miei dati», the download of what the registry
// holds about them; a volunteer also asks here to be erased. The UdP also: the data
// subjects' requests (those received on paper recorded and carried out at once, those asked
// in the app carried out or declined), retention per kind of record, the register of
// processing and the access log.
import { api, apiAll, download } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import { count } from '../js/i18n.js';
import {
  badge, busy, confirmDialog, emptyState, errorBox, field, flash, fmt, input, loading, pageHeader,
  resetErrors, select, showFormError,
} from '../js/ui.js';

const KINDS = {
  access: 'Accesso ai dati (art. 15 e 20)',
  erasure: 'Cancellazione di un volontario (art. 17)',
  contact_erasure: 'Cancellazione di un contatto di un ente (art. 17)',
  plan_erasure: 'Cancellazione del testo di un piano (art. 17)',
  consent_withdrawal: 'Revoca del consenso (art. 7)',
};
const CHANNELS = { paper: 'Su carta, e-mail o allo sportello', app: 'Dall\'app' };
const ACTIONS = { ...KINDS, access_export: 'Dati consegnati', retention: 'Conservazione applicata', declined: 'Richiesta respinta' };
// Why the UdP declines a request (registry/privacy/schemas.py DeclineReason).
const DECLINE_REASONS = {
  identity_not_verified: 'Identità non verificata',
  legal_obligation: 'Obbligo di legge di conservare i dati (art. 17, par. 3)',
  withdrawn_by_subject: 'Ritirata dall\'interessato',
};
const STATUS = { pending: ['in attesa', 'warning'], executed: ['eseguita', 'success'], declined: ['respinta', 'neutral'] };

function statusCell(r) {
  const [text, tone] = STATUS[r.status] || [r.status, 'neutral'];
  const detail = r.status === 'declined' ? DECLINE_REASONS[r.outcome.declined] || '' : r.status === 'executed' ? outcomeText(r.outcome) : 'da eseguire o respingere';
  return [badge(text, tone), ' ', detail];
}
// [singular, plural] of what each count of an outcome counts.
const OUTCOME = {
  ledger_entries_kept: ['voce del registro tenuta come anonima', 'voci del registro tenute come anonime'],
  notifications: ['notifica cancellata', 'notifiche cancellate'],
  notification_settings: ['indirizzo e-mail cancellato', 'indirizzi e-mail cancellati'],
  messages: ['messaggio cancellato', 'messaggi cancellati'],
  messages_renamed: ['nome tolto da un messaggio ad altri', 'nomi tolti da messaggi ad altri'],
  holder: ['scheda titolare anonimizzata', 'schede titolare anonimizzate'],
  holder_resources: ['risorsa anonimizzata e sospesa', 'risorse anonimizzate e sospese'],
  account: ['account chiuso', 'account chiusi'],
  contacts: ['contatto cancellato', 'contatti cancellati'],
  participants: ['partecipante alla co-programmazione anonimizzato', 'partecipanti alla co-programmazione anonimizzati'],
  plan_notes: ['nota cancellata', 'note cancellate'],
  plan_goals: ['obiettivo senza testo', 'obiettivi senza testo'],
  goals: ['obiettivo GAS senza testo', 'obiettivi GAS senza testo'],
  reviews: ['verifica senza note', 'verifiche senza note'],
  was_public: ['scheda tolta dall\'elenco pubblico', 'schede tolte dall\'elenco pubblico'],
  feeds_revoked: ['calendario revocato', 'calendari revocati'],
  closed_plans: ['piano chiuso senza testo', 'piani chiusi senza testo'],
  access_log: ['riga del registro accessi', 'righe del registro accessi'],
  checkins: ['presenza', 'presenze'],
  outbox: ['messaggio in uscita', 'messaggi in uscita'],
  expired_tokens: ['link o codice scaduto', 'link e codici scaduti'],
  login_failures: ['accesso fallito', 'accessi falliti'],
  contributions: ['contributo', 'contributi'],
};

function outcomeText(outcome) {
  if (outcome && outcome.export) return 'dati pronti da scaricare';
  const parts = Object.entries(outcome || {})
    .filter(([k, v]) => typeof v === 'number' && v > 0 && OUTCOME[k])
    .map(([k, v]) => count(v, ...OUTCOME[k]));
  return parts.length ? parts.join(', ') : 'nulla da fare';
}

function myData() {
  const status = h('p', { class: 'hint', role: 'status' });
  const get = (format) => async (event) => {
    const name = await busy(event.currentTarget, () => download('/api/privacy/me/export', { format }, format === 'text' ? 'miei-dati.txt' : 'miei-dati.json'), 'Preparazione…');
    status.textContent = `Scaricato: ${name.name}.`;
  };
  return h('section', { class: 'card' },
    h('h2', { text: 'Scarica i tuoi dati' }),
    h('p', { text: 'Tutto quello che il registro conserva su di te: profilo, ore, presenze con QR, abbinamenti delle tue risorse, notifiche e preferenze. Il riepilogo è da leggere; il file JSON serve a portare i dati in un altro servizio.' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-primary', onclick: get('text') }, 'Scarica il riepilogo'),
      h('button', { type: 'button', class: 'btn btn-secondary', onclick: get('json') }, 'Scarica i dati (JSON)')),
    status,
    h('p', { class: 'hint', text: 'Per chiedere la correzione dei tuoi dati rivolgiti all\'Ufficio di Piano.' }));
}

// A volunteer asks to be erased: the request waits for the UdP, which carries it out or
// declines it with a reason; the volunteer sees where it stands.
async function myErasure(root) {
  const mine = (await api('/api/privacy/me/requests')).filter((r) => r.kind === 'erasure');
  const waiting = mine.some((r) => r.status === 'pending');
  const ask = h('button', { type: 'button', class: 'btn btn-danger', disabled: waiting }, 'Chiedi la cancellazione');
  ask.addEventListener('click', async () => {
    const ok = await confirmDialog('Chiedere la cancellazione?', 'L\'Ufficio di Piano chiuderà il tuo account e cancellerà i tuoi dati personali; le ore che hai donato restano nei conteggi come contributi anonimi. Non si potrà annullare una volta eseguita.', { confirmText: 'Chiedi la cancellazione', danger: true });
    if (!ok) return;
    try {
      await busy(ask, () => api('/api/privacy/me/erasure', { method: 'POST' }), 'Invio…');
      flash('Richiesta inviata all\'Ufficio di Piano.');
      fill(root, await myErasure(root));
    } catch (error) {
      fill(root, await myErasure(root), errorBox(error));
    }
  });
  return h('section', { class: 'card', id: 'my-erasure' },
    h('h2', { text: 'Cancellazione dei tuoi dati' }),
    h('p', { text: 'Puoi chiedere all\'Ufficio di Piano di chiudere il tuo account e cancellare i tuoi dati personali (art. 17 del GDPR). Ti risponde entro un mese.' }),
    h('div', { class: 'actions' }, ask),
    mine.length
      ? h('ul', { class: 'plain' }, mine.map((r) => h('li', null, `Richiesta del ${fmt.dateTime(r.received_at)}: `, ...statusCell(r))))
      : null);
}

// A request the subject made in the app: the UdP carries it out, or declines it with the
// reason the subject is told.
function pendingActions(r, redraw) {
  const reason = select('reason', Object.entries(DECLINE_REASONS), 'identity_not_verified');
  reason.setAttribute('aria-label', 'Motivo del rifiuto');
  const execute = h('button', { type: 'button', class: 'btn btn-danger' }, 'Esegui');
  const decline = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Respingi');
  execute.addEventListener('click', async () => {
    const ok = await confirmDialog('Eseguire la cancellazione?', 'L\'account viene chiuso e i dati personali cancellati; non si può annullare. Le cifre già pubblicate non cambiano.', { confirmText: 'Esegui', danger: true });
    if (!ok) return;
    const done = await busy(execute, () => api(`/api/privacy/requests/${r.id}/execute`, { method: 'POST' }), 'Esecuzione…');
    flash(`Richiesta eseguita: ${outcomeText(done.outcome)}.`);
    await redraw();
  });
  decline.addEventListener('click', async () => {
    await busy(decline, () => api(`/api/privacy/requests/${r.id}/decline`, { method: 'POST', body: { reason: reason.value } }));
    flash('Richiesta respinta: il volontario riceve il motivo.');
    await redraw();
  });
  return h('span', { class: 'actions' }, execute, ' ', reason, ' ', decline);
}

async function requests(panel) {
  const [page, users, holders] = await Promise.all([
    api('/api/privacy/requests', { query: { limit: 100 } }),
    api('/api/users'),
    apiAll('/api/holders'),
  ]);
  const userName = Object.fromEntries(users.map((u) => [u.id, u.username]));
  const holderName = Object.fromEntries(holders.map((x) => [x.id, x.name]));
  const form = h('form', { class: 'form-grid', novalidate: true });
  const kind = select('kind', Object.entries(KINDS), 'access');
  const subjectSlot = h('div');
  const contactSlot = h('div');
  let subject = null;
  let plans = null; // read only when asked for: listing plans is written in the access log
  async function drawSubject() {
    const k = kind.value;
    let options = [];
    if (k === 'access') options = users.map((u) => [u.id, `${u.username} (${u.role})`]);
    else if (k === 'erasure') options = users.filter((u) => u.role === 'volunteer').map((u) => [u.id, u.username]);
    else if (k === 'contact_erasure') options = holders.map((x) => [x.id, x.name]);
    else if (k === 'consent_withdrawal') options = holders.filter((x) => ['informal_network', 'individual_volunteer'].includes(x.kind)).map((x) => [x.id, x.name]);
    if (k === 'plan_erasure') {
      plans = plans || await apiAll('/api/plans');
      subject = select('subject_id', plans.map((p) => [p.id, `${p.case_code} · ${p.owner_username}`]), '', { placeholder: 'Scegli il piano…' });
      fill(subjectSlot, field('Piano', subject, { required: true, hint: 'Codice caso e assistente sociale titolare.' }));
    } else {
      subject = select('subject_id', options, '', { placeholder: 'Scegli…' });
      fill(subjectSlot, field(k === 'contact_erasure' || k === 'consent_withdrawal' ? 'Ente' : 'Persona', subject, { required: true }));
    }
    fill(contactSlot, k === 'contact_erasure' ? field('Contatto da cancellare', input('contact', '', { maxlength: 200 }), { required: true, hint: 'Come è scritto nella scheda dell\'ente (nome, e-mail o telefono).' }) : null);
  }
  kind.addEventListener('change', () => drawSubject().catch((error) => fill(subjectSlot, errorBox(error))));
  await drawSubject();
  const channel = select('channel', Object.entries(CHANNELS), 'paper');
  const reference = input('reference', '', { maxlength: 100, placeholder: 'es. prot. 123/2026' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Registra ed esegui');
  form.append(
    field('Richiesta', kind, { required: true }), subjectSlot, contactSlot,
    field('Ricevuta', channel), field('Riferimento', reference, { hint: 'Un numero di protocollo, mai il nome della persona.' }),
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    resetErrors(form);
    const body = { kind: kind.value, subject_id: subject.value, channel: channel.value, reference: reference.value };
    if (kind.value === 'contact_erasure') body.contact = form.elements.contact.value;
    if (kind.value !== 'access') {
      const ok = await confirmDialog('Eseguire la richiesta?', 'La cancellazione non si può annullare. Le cifre già pubblicate non cambiano.', { confirmText: 'Esegui', danger: true });
      if (!ok) return;
    }
    try {
      const done = await busy(submit, () => api('/api/privacy/requests', { method: 'POST', body }), 'Esecuzione…');
      flash(`Richiesta eseguita: ${outcomeText(done.outcome)}.`);
      await requests(panel);
    } catch (error) {
      showFormError(form, error, { subject_id: 'Persona, ente o piano', contact: 'Contatto' });
    }
  });
  const subjectLabel = (r) => (r.subject_kind === 'user' ? userName[r.subject_id] : r.subject_kind === 'plan' ? 'piano' : holderName[r.subject_id]) || '—';
  const rows = page.items.map((r) => h('tr', null,
    h('td', { 'data-label': 'Ricevuta', text: fmt.dateTime(r.received_at) }),
    h('td', { 'data-label': 'Richiesta', text: KINDS[r.kind] || r.kind }),
    h('td', { 'data-label': 'Interessato', text: subjectLabel(r) }),
    h('td', { 'data-label': 'Canale', text: r.channel === 'paper' ? 'carta' : 'app' }),
    h('td', { 'data-label': 'Riferimento', text: r.reference || '—' }),
    h('td', { 'data-label': 'Esito' }, ...statusCell(r)),
    h('td', { 'data-label': 'Dati' }, r.status === 'pending' ? pendingActions(r, () => requests(panel)) : r.kind === 'access'
      ? h('span', null,
        h('button', { type: 'button', class: 'btn btn-link', onclick: (e) => busy(e.currentTarget, () => download(`/api/privacy/requests/${r.id}/export`, { format: 'text' }, 'dati.txt')) }, 'Riepilogo'), ' ',
        h('button', { type: 'button', class: 'btn btn-link', onclick: (e) => busy(e.currentTarget, () => download(`/api/privacy/requests/${r.id}/export`, { format: 'json' }, 'dati.json')) }, 'JSON'))
      : '—')));
  fill(panel,
    h('section', { class: 'card' }, h('h2', { text: 'Nuova richiesta' }), form),
    h('h2', { text: `Richieste ricevute (${page.total})` }),
    page.items.length
      ? h('div', { class: 'table-wrap' }, responsive(h('table', null,
        h('thead', null, h('tr', null, ['Ricevuta', 'Richiesta', 'Interessato', 'Canale', 'Riferimento', 'Esito', 'Dati'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, rows))))
      : emptyState('Nessuna richiesta', 'Le richieste di accesso, cancellazione e revoca del consenso compaiono qui, con il loro esito.'));
}

async function retention(panel) {
  const kinds = await api('/api/privacy/retention');
  const rows = kinds.map((k) => {
    const days = input('days', String(k.days), { type: 'number', min: 1, max: 36500, 'aria-label': `Giorni per: ${k.label}`, class: 'input-narrow' });
    const save = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Salva');
    save.addEventListener('click', async () => {
      try {
        await busy(save, () => api(`/api/privacy/retention/${k.kind}`, { method: 'PUT', body: { days: Number(days.value) } }));
        flash('Periodo di conservazione salvato.');
      } catch (error) {
        flash(error.message || 'Valore non valido', 'danger');
      }
    });
    return h('tr', null,
      h('td', { 'data-label': 'Dati', text: k.label }),
      h('td', { 'data-label': 'Giorni' }, days, k.days !== k.default_days ? h('span', { class: 'hint', text: ` (predefinito ${k.default_days})` }) : null),
      h('td', { 'data-label': 'Alla scadenza', text: k.action }),
      h('td', { 'data-label': '' }, save));
  });
  const run = h('button', { type: 'button', class: 'btn btn-primary' }, 'Applica ora');
  run.addEventListener('click', async () => {
    const result = await busy(run, () => api('/api/privacy/retention/run', { method: 'POST' }), 'Applicazione…');
    flash(`Conservazione applicata: ${outcomeText(result)}.`);
  });
  fill(panel,
    h('p', { text: 'Ogni notte il registro toglie o rende anonimi i dati scaduti. Le cifre dei periodi chiusi non cambiano: i contributi, i piani e i titolari restano come conteggi.' }),
    h('div', { class: 'table-wrap' }, responsive(h('table', null,
      h('thead', null, h('tr', null, ['Dati', 'Giorni', 'Alla scadenza', ''].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, rows)))),
    h('div', { class: 'actions' }, run));
}

async function dpo(panel) {
  const register = await api('/api/privacy/register');
  const from = input('from', '', { type: 'date' });
  const to = input('to', '', { type: 'date' });
  const action = select('action', [['plan.read', 'Lettura progetto'], ['plan.update', 'Modifica progetto'], ['plan.denied', 'Accesso negato']], '', { placeholder: 'Tutte le azioni' });
  const get = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Scarica il registro degli accessi (CSV)');
  get.addEventListener('click', async () => {
    const query = {};
    if (from.value) query.from = from.value;
    if (to.value) query.to = to.value;
    if (action.value) query.action = action.value;
    try {
      await busy(get, () => download('/api/privacy/access-log.csv', query, 'registro-accessi.csv'));
    } catch (error) {
      flash(error.message || 'Filtri non validi', 'danger');
    }
  });
  fill(panel,
    h('h2', { text: 'Registro dei trattamenti (art. 30)' }),
    h('p', { class: 'hint', text: `Titolare: ${register.controller}. Generato dalla configurazione di questo ambito.` }),
    h('div', { class: 'table-wrap' }, responsive(h('table', null,
      h('thead', null, h('tr', null, ['Trattamento', 'Finalità', 'Base giuridica', 'Conservazione', 'Destinatari'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, register.activities.map((a) => h('tr', null,
        h('td', { 'data-label': 'Trattamento', text: a.name }),
        h('td', { 'data-label': 'Finalità', text: a.purpose }),
        h('td', { 'data-label': 'Base giuridica', text: a.legal_basis }),
        h('td', { 'data-label': 'Conservazione', text: a.retention }),
        h('td', { 'data-label': 'Destinatari', text: a.recipients }))))))),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-secondary', onclick: (e) => busy(e.currentTarget, () => download('/api/privacy/register.csv', {}, 'registro-trattamenti.csv')) }, 'Scarica il registro (CSV)')),
    h('h2', { text: 'Registro degli accessi ai progetti' }),
    h('div', { class: 'form-grid' }, field('Dal', from), field('Al', to), field('Azione', action)),
    h('div', { class: 'actions' }, get));
}

async function events(panel) {
  const page = await api('/api/privacy/events', { query: { limit: 100 } });
  fill(panel, page.items.length
    ? h('div', { class: 'table-wrap' }, responsive(h('table', null,
      h('thead', null, h('tr', null, ['Quando', 'Operazione', 'Da', 'Esito'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, page.items.map((e) => h('tr', null,
        h('td', { 'data-label': 'Quando', text: fmt.dateTime(e.at) }),
        h('td', { 'data-label': 'Operazione', text: ACTIONS[e.action] || e.action }),
        h('td', { 'data-label': 'Da', text: e.by_job ? 'procedura notturna' : 'utente' }),
        h('td', { 'data-label': 'Esito', text: outcomeText(e.summary) })))))))
    : emptyState('Nessuna operazione', 'Cancellazioni, consegne di dati e applicazioni della conservazione compaiono qui, solo come conteggi.'));
}

// A social worker records that the person of one of its plans asked for erasure: the plan's
// free text goes (notes, goals' text, reviews' notes), its counts stay.
async function planErasure(session) {
  const plans = (await apiAll('/api/plans')).filter((p) => p.owner_id === session.user_id);
  const section = h('section', { class: 'card' }, h('h2', { text: 'La persona chiede la cancellazione' }));
  if (!plans.length) {
    section.append(h('p', { text: 'Non hai piani tuoi.' }));
    return section;
  }
  const form = h('form', { novalidate: true });
  const plan = select('subject_id', plans.map((p) => [p.id, `${p.case_code} (${fmt.date(p.start_date)})`]), '', { placeholder: 'Scegli il piano…' });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger' }, 'Cancella il testo del piano');
  form.append(field('Piano', plan, { required: true, hint: 'Note, testo degli obiettivi e note delle verifiche sono cancellati; restano i conteggi. Il codice caso è sostituito.' }), h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    resetErrors(form);
    const ok = await confirmDialog('Cancellare il testo del piano?', 'Non si può annullare.', { confirmText: 'Cancella', danger: true });
    if (!ok) return;
    try {
      const done = await busy(submit, () => api('/api/privacy/requests', { method: 'POST', body: { kind: 'plan_erasure', subject_id: plan.value, channel: 'paper' } }), 'Cancellazione…');
      flash(`Richiesta eseguita: ${outcomeText(done.outcome)}.`);
      plan.querySelector(`option[value="${plan.value}"]`)?.remove();
      plan.value = '';
    } catch (error) {
      showFormError(form, error, { subject_id: 'Piano' });
    }
  });
  section.append(form);
  return section;
}

// A holder manager, for its own organisation: a person asks that their contact be erased, or
// an informal network withdraws its consent (off the public directory at once).
async function holderRequests(holderId) {
  const holder = await api(`/api/holders/${holderId}`);
  const section = h('section', { class: 'card' }, h('h2', { text: 'Richieste sui dati della tua organizzazione' }));
  const form = h('form', { novalidate: true });
  const contact = select('contact', holder.contacts.map((c) => [c.value, c.label ? `${c.value} (${c.label})` : c.value]), '', { placeholder: 'Scegli il contatto…' });
  const erase = h('button', { type: 'submit', class: 'btn btn-danger' }, 'Cancella il contatto');
  form.append(field('Contatto da cancellare su richiesta della persona', contact, { required: true }), h('div', { class: 'actions' }, erase));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    resetErrors(form);
    if (!(await confirmDialog('Cancellare il contatto?', 'Non si può annullare.', { confirmText: 'Cancella', danger: true }))) return;
    try {
      const done = await busy(erase, () => api('/api/privacy/requests', { method: 'POST', body: { kind: 'contact_erasure', subject_id: holderId, contact: contact.value, channel: 'app' } }), 'Cancellazione…');
      flash(`Richiesta eseguita: ${outcomeText(done.outcome)}.`);
      contact.querySelector(`option[value="${CSS.escape(contact.value)}"]`)?.remove();
      contact.value = '';
    } catch (error) {
      showFormError(form, error, { contact: 'Contatto' });
    }
  });
  section.append(holder.contacts.length ? form : h('p', { text: 'La scheda non ha contatti.' }));
  if (holder.consent) {
    const withdraw = h('button', { type: 'button', class: 'btn btn-danger' }, 'Revoca il consenso');
    withdraw.addEventListener('click', async () => {
      if (!(await confirmDialog('Revocare il consenso?', 'La scheda esce subito dall\'elenco pubblico, dalla mappa e dai calendari condivisi; per pubblicarla di nuovo servirà un nuovo consenso.', { confirmText: 'Revoca', danger: true }))) return;
      const done = await busy(withdraw, () => api('/api/privacy/requests', { method: 'POST', body: { kind: 'consent_withdrawal', subject_id: holderId, channel: 'app' } }));
      flash(`Consenso revocato: ${outcomeText(done.outcome)}.`);
      withdraw.remove();
    });
    section.append(h('p', { text: `Consenso al trattamento dato il ${fmt.date(holder.consent.given_at)} (testo ${holder.consent.text_version}).` }), h('div', { class: 'actions' }, withdraw));
  }
  return section;
}

export default async function privacy(root, { session, user, query, replaceQuery }) {
  if (session.role !== 'udp_admin') {
    root.append(pageHeader('I miei dati', { help: 'Qui scarichi tutto quello che il registro conserva su di te (art. 15 e 20 del GDPR).' }), myData());
    if (session.role === 'volunteer') {
      const slot = h('div');
      root.append(slot);
      fill(slot, await myErasure(slot));
    }
    if (session.role === 'social_worker') root.append(await planErasure({ user_id: user.id }));
    if (session.role === 'holder_manager' && user.holder_id) root.append(await holderRequests(user.holder_id));
    return;
  }
  const tabs = [['richieste', 'Richieste'], ['conservazione', 'Conservazione'], ['dpo', 'Registri per il DPO'], ['operazioni', 'Operazioni eseguite'], ['miei', 'I miei dati']];
  let current = tabs.some(([k]) => k === query.tab) ? query.tab : 'richieste';
  const panel = h('div', { id: 'privacy-panel', role: 'tabpanel' });
  const tabBar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Sezioni' });
  async function show() {
    fill(panel, loading());
    try {
      if (current === 'richieste') await requests(panel);
      else if (current === 'conservazione') await retention(panel);
      else if (current === 'dpo') await dpo(panel);
      else if (current === 'operazioni') await events(panel);
      else fill(panel, myData());
    } catch (error) {
      fill(panel, errorBox(error, { retry: show }));
    }
  }
  function drawTabs() {
    fill(tabBar, tabs.map(([key, text]) => h('button', {
      type: 'button', role: 'tab', class: 'tab', 'aria-selected': String(current === key), 'aria-controls': 'privacy-panel',
      onclick: () => { current = key; replaceQuery({ tab: key }); drawTabs(); show(); },
    }, text)));
  }
  root.append(pageHeader('Dati personali', {
    lead: 'Richieste degli interessati, conservazione dei dati e registri per il Responsabile della protezione dei dati.',
    help: 'Registra qui le richieste di accesso, cancellazione e revoca del consenso, anche quelle arrivate su carta: il registro le esegue subito e ne tiene traccia senza conservare i dati cancellati.',
  }), tabBar, panel);
  drawTabs();
  await show();
}
