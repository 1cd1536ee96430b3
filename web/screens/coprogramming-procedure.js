// One co-programming procedure, run end to end by the UdP: notice and dates, calendar of the
// sessions, applications and their people, the summary document assembled from the approved
// minutes, the Piano objectives linked to proposals and sessions, the co-designs that follow.
// A holder manager sees the notice, the calendar and its own application (or applies).

import { api, apiAll } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import {
  APPLICATION_STATUS, AREAS, COPROG_PERSON_ROLES, HOLDER_KINDS, PROCEDURE_KINDS, PROCEDURE_STATUS, SECTORS, SECTOR_OF_KIND,
  SESSION_KINDS, count, label,
} from '../js/i18n.js';
import {
  badge, busy, checkboxGroup, checkedValues, confirmDialog, emptyState, errorBox, field, flash,
  flashNext, fmt, input, italyTodayIso, loading, openDialog, optional, pageHeader, select,
  showFormError, textarea,
} from '../js/ui.js';
import { approveVersion, editVersion, postVersion } from '../js/document-versions.js';
import { documentBadge, documentText, exportButtons, procedureBadge, proposalsBesideGaps, when } from './coprogramming-bits.js';

const NEXT_STATUS = {
  draft: ['open', 'Pubblica l\'avviso e apri le adesioni'],
  open: ['running', 'Chiudi le adesioni e avvia le sessioni'],
  running: ['closed', 'Concludi il procedimento'],
};

/** Rows of people (name, role, contact): no more personal data than that. */
export function participantsEditor(initial = []) {
  const rows = h('div', { class: 'stack' });
  const add = (person = { name: '', role: 'delegate', contact: '' }) => {
    const n = rows.children.length + 1;
    const row = h('div', { class: 'row participant-row' },
      field(`Nome (persona ${n})`, input('p_name', person.name, { maxlength: 200, autocomplete: 'off' })),
      field(`Ruolo (persona ${n})`, select('p_role', Object.entries(COPROG_PERSON_ROLES), person.role)),
      field(`Contatto (persona ${n}, facoltativo)`, input('p_contact', person.contact || '', { maxlength: 200, autocomplete: 'off' })),
      h('button', { type: 'button', class: 'btn btn-secondary btn-small', text: 'Togli', 'aria-label': `Togli la persona ${n}`, onclick: () => row.remove() }));
    rows.append(row);
  };
  initial.forEach(add);
  const box = h('fieldset', { class: 'field' }, h('legend', { text: 'Persone che parteciperanno' }),
    h('p', { class: 'hint', text: 'Solo nome, ruolo e, se volete, un contatto: servono all\'Ufficio di Piano per organizzare i tavoli e non sono pubblicati.' }),
    rows, h('button', { type: 'button', class: 'btn btn-secondary btn-small', text: 'Aggiungi una persona', onclick: () => add() }));
  box.values = () => [...rows.querySelectorAll('.participant-row')].map((row) => ({
    name: row.querySelector('[name=p_name]').value.trim(),
    role: row.querySelector('[name=p_role]').value,
    contact: row.querySelector('[name=p_contact]').value.trim() || null,
  })).filter((p) => p.name);
  if (!initial.length) add();
  return box;
}

export default async function procedureScreen(root, { params, session, user, rerender }) {
  const udp = session.role === 'udp_admin';
  const manager = session.role === 'holder_manager';
  const id = params.id;
  const [procedure, sessions] = await Promise.all([
    api(`/api/coprogramming/procedures/${id}`),
    api(`/api/coprogramming/procedures/${id}/sessions`),
  ]);
  const applications = udp || manager ? await api(`/api/coprogramming/procedures/${id}/applications`) : [];
  const next = udp ? NEXT_STATUS[procedure.status] : null;

  root.append(pageHeader(procedure.title, {
    help: udp
      ? 'Il procedimento dall\'avviso alla chiusura: pubblica l\'avviso, ammetti le adesioni, fissa le sessioni, poi componi il documento di sintesi dai verbali approvati e registra gli obiettivi del Piano collegandoli alle proposte.'
      : 'L\'avviso e il calendario del procedimento. Se le adesioni sono aperte, aderisci indicando chi parteciperà; nelle sessioni a cui siete presenti scrivete le risposte del vostro tavolo.',
    crumbs: [['Co-programmazione', '#/coprogrammazione'], [procedure.title]],
    lead: `${label(PROCEDURE_KINDS, procedure.kind)}${procedure.piano_period ? ` · Piano di Zona ${procedure.piano_period}` : ''} · ${label(PROCEDURE_STATUS, procedure.status)}`,
    actions: [
      procedure.status !== 'draft' ? h('a', { class: 'btn btn-secondary', href: `/pubblico/?procedura=${procedure.id}`, target: '_blank', rel: 'noopener', text: 'Pagina pubblica' }) : null,
      udp ? h('button', { type: 'button', class: 'btn btn-secondary', onclick: editNotice, text: 'Modifica l\'avviso' }) : null,
      next ? h('button', { type: 'button', class: 'btn btn-primary', onclick: (e) => advance(e.currentTarget), text: next[1] }) : null,
    ],
  }));

  async function advance(button) {
    if (!await confirmDialog(next[1], `Il procedimento passerà allo stato «${label(PROCEDURE_STATUS, next[0])}».`, { confirmText: 'Conferma' })) return;
    try {
      // Opening publishes the notice: today, unless the UdP already gave its date.
      const body = next[0] === 'open' && !procedure.notice_published_on ? { status: next[0], notice_published_on: italyTodayIso() } : { status: next[0] };
      await busy(button, () => api(`/api/coprogramming/procedures/${id}`, { method: 'PATCH', body }));
      flashNext(`Stato: ${label(PROCEDURE_STATUS, next[0])}.`);
      rerender();
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  // --- the notice ---------------------------------------------------------------------------
  root.append(h('section', { class: 'card', 'aria-labelledby': 'notice-title' },
    h('h2', { id: 'notice-title', text: 'Avviso pubblico' }),
    h('dl', { class: 'facts' },
      h('dt', { text: 'Stato' }), h('dd', null, procedureBadge(procedure.status)),
      h('dt', { text: 'Pubblicato il' }), h('dd', { text: procedure.notice_published_on ? fmt.date(procedure.notice_published_on) : 'non ancora' }),
      h('dt', { text: 'Adesioni entro il' }), h('dd', { text: procedure.applications_close_on ? fmt.date(procedure.applications_close_on) : '—' }),
      procedure.notice_url ? [h('dt', { text: 'Testo ufficiale' }), h('dd', null, h('a', { href: procedure.notice_url, rel: 'noopener', target: '_blank', text: procedure.notice_url }))] : null,
      h('dt', { text: 'Partecipazione' }), h('dd', { text: `${count(procedure.organisations, 'organizzazione ammessa', 'organizzazioni ammesse')}, ${count(procedure.people, 'persona iscritta', 'persone iscritte')}` })),
    procedure.notice_text ? h('details', null, h('summary', { text: 'Testo dell\'avviso' }), documentText(procedure.notice_text)) : null));

  function editNotice() {
    const p = procedure;
    const form = h('form', { novalidate: true, class: 'stack' },
      field('Titolo', input('title', p.title, { maxlength: 300 }), { required: true }),
      field('Periodo del Piano', input('piano_period', p.piano_period, { maxlength: 32 })),
      field('Testo dell\'avviso', textarea('notice_text', p.notice_text, { rows: 6 })),
      field('Indirizzo dell\'avviso pubblicato', input('notice_url', p.notice_url, { type: 'url', maxlength: 500 })),
      h('div', { class: 'row' },
        field('Avviso pubblicato il', input('notice_published_on', p.notice_published_on || '', { type: 'date' })),
        field('Adesioni entro il', input('applications_close_on', p.applications_close_on || '', { type: 'date' }))),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Salva' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const body = {
        title: d.get('title').trim(), piano_period: d.get('piano_period').trim(), notice_text: d.get('notice_text'), notice_url: d.get('notice_url').trim(),
        notice_published_on: d.get('notice_published_on') || null, applications_close_on: d.get('applications_close_on') || null,
      };
      try {
        await busy(form.querySelector('[type=submit]'), () => api(`/api/coprogramming/procedures/${id}`, { method: 'PATCH', body }));
        dialog.close();
        flashNext('Avviso aggiornato.');
        rerender();
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog('Modifica l\'avviso', form, { wide: true });
  }

  // --- calendar and sessions -----------------------------------------------------------------
  root.append(h('section', { class: 'card', 'aria-labelledby': 'sessions-title' },
    h('div', { class: 'page-title' }, h('h2', { id: 'sessions-title', text: 'Calendario delle sessioni' }),
      udp ? h('button', { type: 'button', class: 'btn btn-primary btn-small', onclick: addSession, text: 'Aggiungi una sessione' }) : null),
    sessions.length
      ? h('div', { class: 'table-wrap' }, responsive(h('table', null,
        h('caption', { class: 'sr-only', text: 'Sessioni del procedimento' }),
        h('thead', null, h('tr', null, ['N.', 'Sessione', 'Quando e dove', 'Tavoli', 'Partecipazione', 'Verbale'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', null, sessions.map((s) => h('tr', null,
          h('td', { class: 'num', text: String(s.number) }),
          h('th', { scope: 'row' }, h('a', { href: `#/coprogrammazione/${id}/sessioni/${s.id}`, text: s.title }), h('div', { class: 'small muted', text: label(SESSION_KINDS, s.kind) + (s.theme ? ` · ${s.theme}` : '') })),
          h('td', null, when(s.starts_at), s.place ? h('div', { class: 'small muted', text: s.place }) : null),
          h('td', { text: s.tables.length ? s.tables.map((t) => t.theme).join('; ') : '—' }),
          h('td', { text: `${count(s.organisations, 'org.', 'org.')} · ${count(s.people, 'persona', 'persone')}` }),
          h('td', null, documentBadge(s.minutes_status))))))))
      : emptyState('Nessuna sessione in calendario', udp ? 'Le linee guida 72/2021 prevedono più sessioni: una introduttiva, alcune tematiche divise in tavoli, una conclusiva.' : null)));

  function addSession() {
    const nextNumber = sessions.reduce((m, s) => Math.max(m, s.number), 0) + 1;
    const form = h('form', { novalidate: true, class: 'stack' },
      h('div', { class: 'row' },
        field('Numero', input('number', nextNumber, { type: 'number', min: 1, max: 100 }), { required: true }),
        field('Tipo', select('kind', Object.entries(SESSION_KINDS), nextNumber === 1 ? 'introductory' : 'thematic'))),
      field('Titolo', input('title', '', { maxlength: 300 }), { required: true }),
      field('Tema', input('theme', '', { maxlength: 300 })),
      h('div', { class: 'row' },
        field('Giorno', input('day', italyTodayIso(), { type: 'date' }), { required: true }),
        field('Ora', input('time', '17:30', { type: 'time' }), { required: true }),
        field('Luogo o collegamento', input('place', '', { maxlength: 300 }))),
      field('Ordine del giorno', textarea('agenda', '', { rows: 4 })),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiungi' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const starts = new Date(`${d.get('day')}T${d.get('time') || '00:00'}`);
      const body = {
        number: Number(d.get('number')), kind: d.get('kind'), title: d.get('title').trim(), theme: d.get('theme').trim(),
        starts_at: Number.isNaN(starts.getTime()) ? d.get('day') : starts.toISOString(), place: d.get('place').trim(), agenda: d.get('agenda'),
      };
      try {
        await busy(form.querySelector('[type=submit]'), () => api(`/api/coprogramming/procedures/${id}/sessions`, { method: 'POST', body }));
        dialog.close();
        flashNext('Sessione aggiunta al calendario.');
        rerender();
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog('Nuova sessione', form, { wide: true });
  }

  // --- applications --------------------------------------------------------------------------
  if (udp) root.append(applicationsSection());
  if (manager) root.append(ownApplication());

  function applicationsSection() {
    const bySector = {};
    for (const a of applications) if (a.status === 'admitted') bySector[a.sector] = (bySector[a.sector] || 0) + 1;
    return h('section', { class: 'card', 'aria-labelledby': 'apps-title' },
      h('div', { class: 'page-title' }, h('h2', { id: 'apps-title', text: `Adesioni (${fmt.number(applications.length)})` }),
        h('button', { type: 'button', class: 'btn btn-primary btn-small', onclick: () => applyDialog(true), text: 'Registra un\'adesione' })),
      Object.keys(bySector).length ? h('p', { class: 'small muted', text: `Ammesse per settore: ${Object.entries(bySector).map(([s, n]) => `${label(SECTORS, s)} ${fmt.number(n)}`).join(' · ')}` }) : null,
      applications.length
        ? h('div', { class: 'table-wrap' }, responsive(h('table', null,
          h('caption', { class: 'sr-only', text: 'Organizzazioni che hanno aderito' }),
          h('thead', null, h('tr', null, ['Organizzazione', 'Persone', 'Stato', 'Azioni'].map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', null, applications.map((a) => h('tr', null,
            h('th', { scope: 'row' }, a.holder_name, h('div', { class: 'small muted', text: `${label(HOLDER_KINDS, a.holder_kind)}${a.runts_number ? ` · RUNTS ${a.runts_number}` : ''}` })),
            h('td', null, count(a.participants.length, 'persona', 'persone'),
              h('div', { class: 'small muted', text: Object.entries(a.people_by_role).map(([r, n]) => `${label(COPROG_PERSON_ROLES, r)} ${fmt.number(n)}`).join(', ') })),
            h('td', null, badge(label(APPLICATION_STATUS, a.status), a.status === 'admitted' ? 'fresh' : a.status === 'submitted' ? 'info' : 'neutral')),
            h('td', null, a.status === 'submitted' ? h('div', { class: 'actions' },
              h('button', { type: 'button', class: 'btn btn-success btn-small', 'aria-label': `Ammetti ${a.holder_name}`, onclick: (e) => decide(e.currentTarget, a, 'admitted') }, 'Ammetti'),
              h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Respingi ${a.holder_name}`, onclick: (e) => decide(e.currentTarget, a, 'rejected') }, 'Respingi')) : '—')))))))
        : emptyState('Nessuna adesione', 'Le organizzazioni aderiscono dal registro; l\'Ufficio di Piano può registrare anche le adesioni arrivate per e-mail.'));
  }

  async function decide(button, application, status) {
    try {
      await busy(button, () => api(`/api/coprogramming/applications/${application.id}`, { method: 'PATCH', body: { status } }));
      flashNext(`${application.holder_name}: adesione ${label(APPLICATION_STATUS, status).toLowerCase()}.`);
      rerender();
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  function ownApplication() {
    const own = applications[0];
    const box = h('section', { class: 'card', 'aria-labelledby': 'own-title' }, h('h2', { id: 'own-title', text: 'La vostra adesione' }));
    if (own) {
      box.append(h('p', null, 'Stato: ', badge(label(APPLICATION_STATUS, own.status), own.status === 'admitted' ? 'fresh' : 'info')),
        h('ul', null, own.participants.map((p) => h('li', { text: `${p.name} (${label(COPROG_PERSON_ROLES, p.role)})` }))),
        own.status === 'submitted' || own.status === 'admitted' ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', text: 'Ritira l\'adesione', onclick: (e) => withdraw(e.currentTarget, own) }) : null);
    } else if (procedure.status === 'open') {
      box.append(h('p', { text: 'Le adesioni sono aperte: indicate chi parteciperà alle sessioni per la vostra organizzazione.' }),
        h('button', { type: 'button', class: 'btn btn-primary', text: 'Aderisci', onclick: () => applyDialog(false) }));
    } else {
      box.append(h('p', { text: 'Le adesioni non sono aperte.' }));
    }
    return box;
  }

  async function withdraw(button, application) {
    if (!await confirmDialog('Ritirare l\'adesione?', 'La vostra organizzazione non risulterà più tra i partecipanti.', { confirmText: 'Ritira', danger: true })) return;
    try {
      await busy(button, () => api(`/api/coprogramming/applications/${application.id}`, { method: 'PATCH', body: { status: 'withdrawn' } }));
      flashNext('Adesione ritirata.');
      rerender();
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  async function applyDialog(forOthers) {
    let holderChoice = null;
    let newHolder = null;
    if (forOthers) {
      const holders = await apiAll('/api/holders');
      const taken = new Set(applications.map((a) => a.holder_id));
      holderChoice = select('holder_id', holders.filter((x) => !taken.has(x.id)).map((x) => [x.id, x.name]), '', { placeholder: 'Un\'organizzazione non ancora registrata…' });
      const kind = select('nh_kind', Object.entries(HOLDER_KINDS), 'association');
      const sector = select('nh_sector', Object.entries(SECTORS), 'third_sector');
      kind.addEventListener('change', () => { sector.value = (SECTOR_OF_KIND[kind.value] || ['third_sector'])[0]; });
      newHolder = h('fieldset', { class: 'field' }, h('legend', { text: 'Nuova organizzazione (se non è nell\'elenco)' }),
        h('div', { class: 'row' }, field('Denominazione', input('nh_name', '', { maxlength: 200 })), field('Numero RUNTS (se iscritta)', input('nh_runts', '', { maxlength: 32 }))),
        h('div', { class: 'row' }, field('Tipo', kind), field('Settore', sector)));
    }
    // A holder manager applies for its own holder (the only one it may name).
    const ownName = forOthers ? '' : (await api(`/api/holders/${user.holder_id}`).catch(() => null))?.name || 'la vostra organizzazione';
    const people = participantsEditor();
    const form = h('form', { novalidate: true, class: 'stack' },
      forOthers ? field('Organizzazione', holderChoice) : h('p', { text: `Aderite per: ${ownName}.` }),
      newHolder, people,
      field('Nota (facoltativa)', textarea('note', '', { rows: 2 })),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Invia l\'adesione' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const body = { note: d.get('note'), participants: people.values() };
      if (!forOthers) body.holder_id = user.holder_id;
      if (forOthers) {
        if (d.get('holder_id')) body.holder_id = d.get('holder_id');
        else body.new_holder = { name: (d.get('nh_name') || '').trim(), kind: d.get('nh_kind'), sector: d.get('nh_sector'), runts_number: (d.get('nh_runts') || '').trim() || null };
      }
      try {
        await busy(form.querySelector('[type=submit]'), () => api(`/api/coprogramming/procedures/${id}/applications`, { method: 'POST', body }));
        dialog.close();
        flashNext('Adesione registrata.');
        rerender();
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog('Adesione al procedimento', form, { wide: true });
  }

  // --- proposals beside the gap map, summary, objectives (UdP) --------------------------------
  if (udp) {
    root.append(proposalsBesideGaps(id));
    root.append(await summarySection());
    root.append(await objectivesSection());
  }
  root.append(await partnershipsSection());

  async function summarySection() {
    const versions = await api(`/api/coprogramming/procedures/${id}/summary`);
    const latest = versions[versions.length - 1] || null;
    const approvedMinutes = sessions.filter((s) => s.minutes_status === 'approved').length;
    const box = h('section', { class: 'card', 'aria-labelledby': 'summary-title' },
      h('h2', { id: 'summary-title', text: 'Documento istruttorio di sintesi' }),
      h('p', { class: 'small muted', text: `Si compone dai verbali approvati (${fmt.number(approvedMinutes)} su ${fmt.number(sessions.length)} sessioni). Una volta approvato non cambia più: una modifica apre una nuova versione.` }));
    if (latest) {
      box.append(h('p', null, `Versione ${latest.version} `, documentBadge(latest.status),
        latest.approved_at ? h('span', { class: 'small muted', text: ` · approvata il ${fmt.date(latest.approved_at)}` }) : null),
      h('details', { open: latest.status === 'draft' }, h('summary', { text: 'Testo' }), documentText(latest.content)));
      if (latest.status === 'approved') box.append(exportButtons(`/api/coprogramming/summary/${latest.id}`, `documento-di-sintesi-v${latest.version}`));
    }
    const actions = h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-secondary', text: latest ? 'Ricomponi dai verbali approvati' : 'Componi dai verbali approvati', disabled: !approvedMinutes, onclick: (e) => draft(e.currentTarget) }),
      latest ? h('button', { type: 'button', class: 'btn btn-secondary', text: 'Modifica il testo', onclick: () => editSummary(latest) }) : null,
      latest && latest.status === 'draft' ? h('button', { type: 'button', class: 'btn btn-primary', text: 'Approva il documento', onclick: (e) => approveSummary(e.currentTarget, latest) }) : null);
    box.append(actions);
    return box;
  }

  function draft(button) {
    return postVersion(button, `/api/coprogramming/procedures/${id}/summary/draft`, 'Bozza del documento di sintesi composta dai verbali approvati.', rerender);
  }

  function editSummary(latest) {
    editVersion(latest, { title: 'Documento istruttorio di sintesi', label: 'Testo del documento', path: `/api/coprogramming/procedures/${id}/summary`, done: 'Documento di sintesi salvato.' }, rerender);
  }

  function approveSummary(button, latest) {
    return approveVersion(button, `/api/coprogramming/summary/${latest.id}/approve`, {
      question: 'Approvare il documento di sintesi?',
      consequence: 'Il testo approvato non cambia più e viene pubblicato nella pagina pubblica del procedimento.',
      done: `Documento di sintesi approvato (versione ${latest.version}).`,
    }, rerender);
  }

  async function objectivesSection() {
    const [objectives, proposals] = await Promise.all([
      api(`/api/coprogramming/procedures/${id}/objectives`),
      api(`/api/coprogramming/procedures/${id}/proposals`),
    ]);
    const proposalText = Object.fromEntries(proposals.map((p) => [p.id, p.text]));
    const sessionName = Object.fromEntries(sessions.map((s) => [s.id, `Sessione ${s.number}: ${s.title}`]));
    return h('section', { class: 'card', 'aria-labelledby': 'objectives-title' },
      h('div', { class: 'page-title' }, h('h2', { id: 'objectives-title', text: 'Obiettivi del Piano di Zona' }),
        h('button', { type: 'button', class: 'btn btn-primary btn-small', text: 'Aggiungi un obiettivo', onclick: () => addObjective(proposals) })),
      objectives.length
        ? h('ul', { class: 'objectives' }, objectives.map((o) => h('li', null,
          h('strong', { text: `${o.code ? `${o.code} · ` : ''}${o.title}` }), o.area ? h('span', { class: 'small muted', text: ` (${label(AREAS, o.area)})` }) : null,
          o.description ? h('p', { class: 'small', text: o.description }) : null,
          h('p', { class: 'small muted' }, 'Da: ', [...o.session_ids.map((s) => sessionName[s] || 'sessione'), ...o.proposal_ids.map((p) => `proposta «${proposalText[p] || '…'}»`)].join('; ') || 'nessun collegamento'))))
        : emptyState('Nessun obiettivo', 'Registra gli obiettivi del Piano collegandoli alle proposte e alle sessioni da cui vengono: il documento pubblico li mostra insieme.'));
  }

  function addObjective(proposals) {
    const form = h('form', { novalidate: true, class: 'stack' },
      h('div', { class: 'row' }, field('Codice', input('code', '', { maxlength: 32, placeholder: 'es. OB-3' })), field('Area', select('area', Object.entries(AREAS), '', { placeholder: 'Nessuna' }))),
      field('Titolo', input('title', '', { maxlength: 300 }), { required: true }),
      field('Descrizione', textarea('description', '', { rows: 3 })),
      field('Adottato il', input('adopted_on', '', { type: 'date' })),
      proposals.length ? checkboxGroup('Proposte da cui viene', 'proposal_ids', proposals.map((p) => [p.id, `${p.text} (${p.table_theme})`])) : null,
      checkboxGroup('Sessioni da cui viene', 'session_ids', sessions.map((s) => [s.id, `${s.number}. ${s.title}`])),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiungi' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const body = {
        code: d.get('code').trim(), title: d.get('title').trim(), description: d.get('description'), area: d.get('area') || null,
        adopted_on: d.get('adopted_on') || null, proposal_ids: checkedValues(form, 'proposal_ids'), session_ids: checkedValues(form, 'session_ids'),
      };
      try {
        await busy(form.querySelector('[type=submit]'), () => api(`/api/coprogramming/procedures/${id}/objectives`, { method: 'POST', body }));
        dialog.close();
        flashNext('Obiettivo aggiunto.');
        rerender();
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog('Nuovo obiettivo del Piano', form, { wide: true });
  }

  // Co-designs born from this procedure (registry/partnerships): shown when that API answers.
  async function partnershipsSection() {
    const box = h('section', { class: 'card', 'aria-labelledby': 'codesign-title' }, h('h2', { id: 'codesign-title', text: 'Co-progettazioni nate dal procedimento' }), loading());
    let projects;
    try {
      projects = await optional(api('/api/codesigns', { query: { procedure_id: id } }));
    } catch (error) {
      fill(box, box.firstChild, errorBox(error));
      return box;
    }
    const items = Array.isArray(projects) ? projects : projects?.items ?? [];
    fill(box, box.firstChild,
      items.length
        ? h('ul', null, items.map((p) => h('li', null, h('a', { href: `#/impegni/progetti/${p.id}`, text: p.title }),
          h('span', { class: 'small muted', text: ` · ${count(p.partners.length, 'partner', 'partner')} · dal ${fmt.date(p.starts_on)}` }))))
        : h('p', { class: 'small muted', text: 'Nessuna co-progettazione ancora: nasce da una proposta dei tavoli.' }),
      h('p', { class: 'small' }, h('a', { href: '#/impegni', text: udp ? 'Tutte le co-progettazioni e i patti di collaborazione' : 'I vostri impegni' })));
    return box;
  }
}
