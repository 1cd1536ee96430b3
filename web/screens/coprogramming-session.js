// One session of a procedure: agenda, working tables with their theme and spokesperson, who
// attended (organisations and how many people), the four guiding questions answered per table,
// and the minutes drafted from them, approved (frozen) and versioned. The UdP runs all of it;
// a holder manager whose organisation attends writes its answers at its table.

import { api, apiAll } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import { GUIDING_QUESTIONS, SESSION_KINDS, count, label } from '../js/i18n.js';
import { taxonomy } from '../js/store.js';
import {
  busy, confirmDialog, emptyState, field, flash, flashNext, fmt, input, isoDate, openDialog, pageHeader, select, showFormError, textarea,
} from '../js/ui.js';
import { approveVersion, editVersion, postVersion } from '../js/document-versions.js';
import { documentBadge, documentText, exportButtons, proposalsBesideGaps, when } from './coprogramming-bits.js';

export default async function sessionScreen(root, { params, session, user, rerender }) {
  const udp = session.role === 'udp_admin';
  const { id, sid } = params;
  const [procedure, meeting, minutes] = await Promise.all([
    api(`/api/coprogramming/procedures/${id}`),
    api(`/api/coprogramming/sessions/${sid}`),
    api(`/api/coprogramming/sessions/${sid}/minutes`),
  ]);
  const [applications, attendance] = await Promise.all([
    udp ? api(`/api/coprogramming/procedures/${id}/applications`) : Promise.resolve([]),
    session.role === 'holder_manager' || udp ? api(`/api/coprogramming/sessions/${sid}/attendance`).catch(() => []) : Promise.resolve([]),
  ]);
  const ownRow = session.role === 'holder_manager' ? attendance.find((a) => a.holder_id === user?.holder_id) : null;
  const canWrite = (table) => udp || Boolean(ownRow && (!ownRow.table_id || ownRow.table_id === table.id));
  // Contributions are read per table; a table the reader may not see answers 403 and stays closed.
  const contributions = await Promise.all(meeting.tables.map((t) => (udp || ownRow
    ? api(`/api/coprogramming/tables/${t.id}/contributions`).catch(() => null)
    : Promise.resolve(null))));
  const terms = await taxonomy().catch(() => ({ terms: [], byCode: {} }));
  const admitted = applications.filter((a) => a.status === 'admitted');
  const people = admitted.flatMap((a) => a.participants.map((p) => [p.id, `${p.name} (${a.holder_name})`]));

  root.append(pageHeader(`Sessione ${meeting.number}: ${meeting.title}`, {
    help: 'Ogni tavolo risponde a quattro domande: problemi, risorse già disponibili, proposte, contributo della rete. Dalle risposte si genera la bozza del verbale; approvato, non cambia più e viene pubblicato.',
    crumbs: [['Co-programmazione', '#/coprogrammazione'], [procedure.title, `#/coprogrammazione/${id}`], [`Sessione ${meeting.number}`]],
    lead: `${label(SESSION_KINDS, meeting.kind)}${meeting.theme ? ` · ${meeting.theme}` : ''} · ${when(meeting.starts_at)}${meeting.place ? ` · ${meeting.place}` : ''}`,
    actions: udp ? [h('button', { type: 'button', class: 'btn btn-secondary', onclick: editSession, text: 'Modifica la sessione' })] : null,
  }));

  // The calendar moves and the agenda gets written: the UdP edits the session in place.
  function editSession() {
    const local = new Date(meeting.starts_at);
    const form = h('form', { novalidate: true, class: 'stack' },
      field('Titolo', input('title', meeting.title, { maxlength: 300 }), { required: true }),
      field('Tema', input('theme', meeting.theme, { maxlength: 300 })),
      h('div', { class: 'row' },
        field('Giorno', input('day', isoDate(local), { type: 'date' }), { required: true }),
        field('Ora', input('time', `${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}`, { type: 'time' }), { required: true }),
        field('Luogo o collegamento', input('place', meeting.place, { maxlength: 300 }))),
      field('Ordine del giorno', textarea('agenda', meeting.agenda, { rows: 5 })),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Salva' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const starts = new Date(`${d.get('day')}T${d.get('time') || '00:00'}`);
      const body = {
        title: d.get('title').trim(), theme: d.get('theme').trim(), place: d.get('place').trim(), agenda: d.get('agenda'),
        starts_at: Number.isNaN(starts.getTime()) ? d.get('day') : starts.toISOString(),
      };
      try {
        await busy(form.querySelector('[type=submit]'), () => api(`/api/coprogramming/sessions/${sid}`, { method: 'PATCH', body }));
        dialog.close();
        flashNext('Sessione aggiornata.');
        rerender();
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog(`Modifica la sessione ${meeting.number}`, form, { wide: true });
  }

  root.append(h('section', { class: 'card', 'aria-labelledby': 'agenda-title' },
    h('h2', { id: 'agenda-title', text: 'Ordine del giorno' }),
    meeting.agenda ? documentText(meeting.agenda) : h('p', { class: 'muted', text: 'Non indicato.' }),
    h('p', { class: 'small muted', text: `Presenti: ${count(meeting.organisations, 'organizzazione', 'organizzazioni')}, ${count(meeting.people, 'persona', 'persone')}.` })));

  if (udp) root.append(proposalsBesideGaps(id));

  // --- working tables -------------------------------------------------------------------------
  const tablesBox = h('section', { 'aria-labelledby': 'tables-title' },
    h('div', { class: 'page-title' }, h('h2', { id: 'tables-title', text: `Tavoli di lavoro (${fmt.number(meeting.tables.length)})` }),
      udp ? h('button', { type: 'button', class: 'btn btn-primary btn-small', text: 'Aggiungi un tavolo', onclick: () => tableDialog() }) : null));
  if (!meeting.tables.length) tablesBox.append(emptyState('Nessun tavolo', udp ? 'Dividi la sessione in tavoli di lavoro, ciascuno con il suo tema e un portavoce.' : 'L\'Ufficio di Piano non ha ancora formato i tavoli.'));
  meeting.tables.forEach((table, index) => tablesBox.append(tableCard(table, contributions[index])));
  root.append(tablesBox);

  // Names of people are for the UdP; others read whose organisation speaks for the table.
  function spokesperson(table) {
    if (table.spokesperson_name) return `${table.spokesperson_name}${table.spokesperson_holder ? ` (${table.spokesperson_holder})` : ''}`;
    return table.spokesperson_holder ? `una persona di ${table.spokesperson_holder}` : 'da indicare';
  }

  function tableCard(table, answers) {
    const titleId = `table-${table.id}`;
    const mine = ownRow && ownRow.table_id === table.id;
    return h('section', { class: 'card coprog-table', 'aria-labelledby': titleId },
      h('div', { class: 'page-title' },
        h('h3', { id: titleId, text: `Tavolo: ${table.theme}` }),
        udp ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Modifica il tavolo ${table.theme}`, onclick: () => tableDialog(table) }, 'Modifica') : null),
      h('p', { class: 'small' }, `Portavoce: ${spokesperson(table)}`,
        ` · ${count(table.organisations, 'organizzazione', 'organizzazioni')}, ${count(table.people, 'persona', 'persone')}`, mine ? ' · il vostro tavolo' : ''),
      answers === null
        ? h('p', { class: 'small muted', text: 'I contributi del tavolo sono visibili all\'Ufficio di Piano e alle organizzazioni presenti.' })
        : h('div', { class: 'questions' }, Object.entries(GUIDING_QUESTIONS).map(([question, text]) => {
          const items = answers.filter((c) => c.question === question);
          return h('div', { class: 'question' }, h('h4', { text }),
            items.length
              ? h('ul', null, items.map((c) => h('li', null, c.text,
                h('span', { class: 'small muted', text: [c.holder_name, c.resource_title ? `risorsa: ${c.resource_title}` : null, c.category_code ? (terms.byCode[c.category_code]?.name ?? c.category_code) : null].filter(Boolean).map((x) => ` · ${x}`).join('') }),
                udp || (c.holder_id && c.holder_id === user?.holder_id)
                  ? [' ', h('button', { type: 'button', class: 'link-button small', 'aria-label': `Togli il contributo: ${c.text}`, onclick: (e) => removeContribution(e.currentTarget, c) }, 'Togli')]
                  : null)))
              : h('p', { class: 'small muted', text: 'Ancora niente.' }));
        })),
      canWrite(table) && answers !== null ? contributionForm(table) : null);
  }

  async function removeContribution(button, contribution) {
    if (!await confirmDialog('Togliere il contributo?', `«${contribution.text}» non comparirà più tra le risposte del tavolo (i verbali già approvati restano come sono).`, { confirmText: 'Togli', danger: true })) return;
    try {
      await busy(button, () => api(`/api/coprogramming/contributions/${contribution.id}`, { method: 'DELETE' }));
      flashNext('Contributo tolto.');
      rerender();
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  function contributionForm(table) {
    const question = select('question', Object.entries(GUIDING_QUESTIONS), 'problems');
    const text = textarea('text', '', { rows: 2, maxlength: 5000 });
    const leaves = terms.terms.filter((t) => t.parent_code).map((t) => [t.code, t.name]);
    const category = select('category_code', leaves, '', { placeholder: 'Nessuna' });
    const resourceSlot = h('div');
    const holderChoice = udp && attendance.length
      ? field('A nome di', select('holder_id', attendance.filter((a) => !a.table_id || a.table_id === table.id).map((a) => [a.holder_id, a.holder_name]), '', { placeholder: 'Il tavolo nel suo insieme' }))
      : null;
    // Existing resources may point to a resource of the registry (loaded when asked for).
    question.addEventListener('change', async () => {
      if (question.value !== 'existing_resources' || resourceSlot.firstChild) return;
      const resources = await apiAll('/api/resources', {}, 300).catch(() => []);
      fill(resourceSlot, field('Risorsa del registro (se c\'è)', select('resource_id', resources.map((r) => [r.id, `${r.title}${r.holder_name ? ` — ${r.holder_name}` : ''}`]), '', { placeholder: 'Nessuna' })));
    });
    const form = h('form', { novalidate: true, class: 'stack contribution-form', 'aria-label': `Nuovo contributo al tavolo ${table.theme}` },
      h('div', { class: 'row' }, field('Domanda', question), field('Categoria (facoltativa)', category), holderChoice),
      resourceSlot,
      field('Contributo', text, { required: true }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary btn-small', text: 'Aggiungi il contributo' })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const body = { question: d.get('question'), text: d.get('text').trim() };
      if (d.get('category_code')) body.category_code = d.get('category_code');
      if (d.get('resource_id') && body.question === 'existing_resources') body.resource_id = d.get('resource_id');
      if (d.get('holder_id')) body.holder_id = d.get('holder_id');
      try {
        await busy(form.querySelector('[type=submit]'), () => api(`/api/coprogramming/tables/${table.id}/contributions`, { method: 'POST', body }));
        flashNext(`Contributo aggiunto al tavolo «${table.theme}».`);
        rerender();
      } catch (error) {
        showFormError(form, error);
      }
    });
    return form;
  }

  function tableDialog(table) {
    const form = h('form', { novalidate: true, class: 'stack' },
      field('Tema del tavolo', input('theme', table?.theme || '', { maxlength: 300 }), { required: true }),
      field('Portavoce', select('spokesperson_id', people, table?.spokesperson_id || '', { placeholder: 'Da indicare' }), { hint: 'Una delle persone indicate dalle organizzazioni ammesse.' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: table ? 'Salva' : 'Aggiungi il tavolo' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      const body = { theme: d.get('theme').trim(), spokesperson_id: d.get('spokesperson_id') || null };
      try {
        await busy(form.querySelector('[type=submit]'), () => (table
          ? api(`/api/coprogramming/tables/${table.id}`, { method: 'PATCH', body })
          : api(`/api/coprogramming/sessions/${sid}/tables`, { method: 'POST', body })));
        dialog.close();
        flashNext(table ? 'Tavolo aggiornato.' : `Tavolo «${body.theme}» aggiunto.`);
        rerender();
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog(table ? 'Modifica il tavolo' : 'Nuovo tavolo di lavoro', form);
  }

  // --- attendance (UdP) ----------------------------------------------------------------------
  if (udp) root.append(attendanceSection());

  function attendanceSection() {
    const byApplication = Object.fromEntries(attendance.map((a) => [a.application_id, a]));
    const tableOptions = meeting.tables.map((t) => [t.id, t.theme]);
    return h('section', { class: 'card', 'aria-labelledby': 'attendance-title' },
      h('h2', { id: 'attendance-title', text: 'Presenze' }),
      h('p', { class: 'small muted', text: 'Per ogni organizzazione ammessa: se era presente, con quante persone e a quale tavolo. Le presenze diventano legami della rete di comunità.' }),
      admitted.length
        ? h('div', { class: 'table-wrap' }, responsive(h('table', null,
          h('caption', { class: 'sr-only', text: 'Presenze alla sessione' }),
          h('thead', null, h('tr', null, ['Organizzazione', 'Persone', 'Tavolo', 'Azioni'].map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', null, admitted.map((a) => {
            const row = byApplication[a.id];
            const peopleInput = input('people', row ? row.people : Math.max(1, a.participants.length), { type: 'number', min: 1, max: 1000, 'aria-label': `Persone presenti per ${a.holder_name}` });
            const tableSelect = select('table_id', tableOptions, row?.table_id || '', { placeholder: 'Solo plenaria' });
            tableSelect.setAttribute('aria-label', `Tavolo di ${a.holder_name}`);
            return h('tr', null,
              h('th', { scope: 'row' }, a.holder_name, row ? h('div', { class: 'small muted', text: 'presente' }) : null),
              h('td', null, peopleInput), h('td', null, tableSelect),
              h('td', null, h('div', { class: 'actions' },
                h('button', { type: 'button', class: 'btn btn-primary btn-small', 'aria-label': `${row ? 'Aggiorna' : 'Presente'}: ${a.holder_name}`, onclick: (e) => attend(e.currentTarget, a, peopleInput.value, tableSelect.value) }, row ? 'Aggiorna' : 'Presente'),
                row ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Assente: ${a.holder_name}`, onclick: (e) => absent(e.currentTarget, row) }, 'Assente') : null)));
          })))))
        : emptyState('Nessuna organizzazione ammessa', 'Ammetti le adesioni dalla pagina del procedimento.'));
  }

  async function attend(button, application, peopleCount, tableId) {
    try {
      await busy(button, () => api(`/api/coprogramming/sessions/${sid}/attendance`, { method: 'PUT', body: { application_id: application.id, table_id: tableId || null, people: Number(peopleCount) || 1 } }));
      flashNext(`Presenza registrata: ${application.holder_name}.`);
      rerender();
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  async function absent(button, row) {
    try {
      await busy(button, () => api(`/api/coprogramming/attendance/${row.id}`, { method: 'DELETE' }));
      flashNext(`Presenza tolta: ${row.holder_name}.`);
      rerender();
    } catch (error) {
      flash(error.message, 'error');
    }
  }

  // --- minutes -------------------------------------------------------------------------------
  root.append(minutesSection());

  function minutesSection() {
    const latest = minutes[minutes.length - 1] || null;
    const older = minutes.slice(0, -1).reverse();
    const box = h('section', { class: 'card', 'aria-labelledby': 'minutes-title' },
      h('h2', { id: 'minutes-title', text: 'Verbale della sessione' }));
    if (!latest) {
      box.append(h('p', { text: udp ? 'Nessun verbale: generane la bozza da quanto hanno registrato i tavoli.' : 'Il verbale non è ancora stato approvato.' }));
    } else {
      box.append(h('p', null, `Versione ${latest.version} `, documentBadge(latest.status),
        latest.approved_at ? h('span', { class: 'small muted', text: ` · approvato il ${fmt.dateTime(latest.approved_at)}` }) : null),
      documentText(latest.content));
      if (latest.status === 'approved') box.append(exportButtons(`/api/coprogramming/minutes/${latest.id}`, `verbale-sessione-${meeting.number}-v${latest.version}`));
    }
    if (udp) {
      box.append(h('div', { class: 'actions' },
        // After approval a new draft from the tables is version n+1; n stays as approved.
        h('button', { type: 'button', class: 'btn btn-secondary', text: !latest ? 'Genera la bozza dai tavoli' : latest.status === 'draft' ? 'Rigenera la bozza dai tavoli' : 'Nuova versione dai tavoli', onclick: (e) => draftMinutes(e.currentTarget) }),
        latest ? h('button', { type: 'button', class: 'btn btn-secondary', text: latest.status === 'approved' ? 'Correggi (nuova versione)' : 'Modifica il testo', onclick: () => editMinutes(latest) }) : null,
        latest && latest.status === 'draft' ? h('button', { type: 'button', class: 'btn btn-primary', text: 'Approva il verbale', onclick: (e) => approveMinutes(e.currentTarget, latest) }) : null));
    }
    if (older.length) {
      box.append(h('details', null, h('summary', { text: `Versioni precedenti (${fmt.number(older.length)})` }),
        h('ul', null, older.map((v) => h('li', null, `Versione ${v.version} `, documentBadge(v.status),
          v.approved_at ? ` approvata il ${fmt.dateTime(v.approved_at)}` : '',
          v.status === 'approved' ? exportButtons(`/api/coprogramming/minutes/${v.id}`, `verbale-sessione-${meeting.number}-v${v.version}`) : null)))));
    }
    return box;
  }

  function draftMinutes(button) {
    return postVersion(button, `/api/coprogramming/sessions/${sid}/minutes/draft`, 'Bozza del verbale generata dai contributi dei tavoli.', rerender);
  }

  function editMinutes(latest) {
    editVersion(latest, { title: `Verbale della sessione ${meeting.number}`, label: 'Testo del verbale', path: `/api/coprogramming/sessions/${sid}/minutes`, done: 'Verbale salvato.' }, rerender);
  }

  function approveMinutes(button, latest) {
    return approveVersion(button, `/api/coprogramming/minutes/${latest.id}/approve`, {
      question: 'Approvare il verbale?',
      consequence: 'Il verbale approvato non cambia più: una correzione aprirà una nuova versione. Sarà pubblicato nella pagina pubblica del procedimento.',
      done: `Verbale approvato (versione ${latest.version}).`,
    }, rerender);
  }

  return null;
}

