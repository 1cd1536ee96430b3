// Co-designs and patti di collaborazione (issue 16) and what each party committed against what
// the ledger shows was given. A holder manager sees its own commitments («I miei impegni») and
// records what it gave; the UdP starts co-designs from the tables' proposals, signs patti and
// writes their periodic reports. Three routes: /impegni, /impegni/progetti/:id, /impegni/patti/:id.

import { api, apiAll, newKey } from '../js/api.js';
import { h, responsive } from '../js/dom.js';
import { CONTRIBUTION_UNITS, agree, count, label, quantity } from '../js/i18n.js';
import { comuni } from '../js/store.js';
import {
  badge, busy, checkboxGroup, checkedValues, emptyState, field, flash, flashNext, fmt, input,
  isoDate, italyToday, italyTodayIso, openDialog, pageHeader, select, showFormError, textarea,
} from '../js/ui.js';
import { documentText } from './coprogramming-bits.js';

const PATTO_STATUS = { active: 'In corso', renewed: 'Rinnovato', closed: 'Concluso', terminated: 'Interrotto' };
const PROJECT_STATUS = { active: 'In corso', closed: 'Concluso', cancelled: 'Annullato' };
const PUBLIC_PARTY = { comune: 'Comune', ambito: 'Ambito (Ufficio di Piano)' };
const ROLE = { lead: 'capofila', partner: 'partner' };

function amount(value, unit) {
  if (value === null || value === undefined) return '—';
  return unit ? quantity(value, unit, { contribution: true }) : fmt.number(value);
}

/** «40 viaggi impegnati», «27 ore date»: the participle agrees with the unit. */
function agreeing(value, unit, stem) {
  return unit ? `${amount(value, unit)} ${agree(unit, stem, value, { contribution: true })}` : amount(value, unit);
}

function commitmentsTable(commitments, { caption, canRecord, onRecorded, where }) {
  if (!commitments.length) return h('p', { class: 'small muted', text: 'Nessun impegno registrato.' });
  return h('div', { class: 'table-wrap' }, responsive(h('table', null,
    h('caption', { class: 'sr-only', text: caption }),
    h('thead', null, h('tr', null, ['Chi', 'Impegno', 'Impegnato', 'Dato (dal registro)', 'Azioni'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, commitments.map((c) => h('tr', null,
      h('th', { scope: 'row', text: c.holder_name || 'Parte pubblica' }),
      h('td', null, c.description, where ? where(c) : null, c.due_by ? h('div', { class: 'small muted', text: `entro il ${fmt.date(c.due_by)}` }) : null),
      h('td', { class: 'num', text: amount(c.quantity, c.unit) }),
      h('td', null, amount(c.given.verified, c.unit),
        c.given.self_reported ? h('div', { class: 'small muted', text: `più ${amount(c.given.self_reported, c.unit)} da confermare` }) : null,
        c.kept_share !== null && c.kept_share !== undefined ? h('div', { class: 'small muted', text: `${fmt.percent(c.kept_share)} dell'impegno` }) : null),
      h('td', null, canRecord(c) && c.unit
        ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Registra quanto dato: ${c.description}`, onclick: () => recordDialog(c, onRecorded) }, 'Registra quanto dato')
        : '—')))))));
}

function recordDialog(commitment, onRecorded) {
  const key = newKey(); // one key per dialog: a double click records once
  const form = h('form', { novalidate: true, class: 'stack' },
    h('p', { text: commitment.description }),
    h('div', { class: 'row' },
      field(`Quantità (${label(CONTRIBUTION_UNITS, commitment.unit)})`, input('quantity', '', { type: 'number', min: 0.25, step: 0.25, inputmode: 'decimal' }), { required: true }),
      field('Giorno', input('occurred_on', italyTodayIso(), { type: 'date' }), { required: true })),
    field('Nota', input('note', '', { maxlength: 500 })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Registra' }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const d = new FormData(form);
    const body = { unit: commitment.unit, quantity: Number(d.get('quantity')), occurred_on: d.get('occurred_on'), note: d.get('note').trim() };
    try {
      await busy(form.querySelector('[type=submit]'), () => api(`/api/commitments/${commitment.id}/contributions`, { method: 'POST', body, headers: { 'Idempotency-Key': key } }));
      dialog.close();
      flashNext('Registrato nel registro dei contributi.');
      onRecorded();
    } catch (error) {
      showFormError(form, error);
    }
  });
  const dialog = openDialog('Registra quanto dato', form);
}

function commitmentDialog(path, parties, onSaved, { publicSide = false } = {}) {
  const form = h('form', { novalidate: true, class: 'stack' },
    field('Chi si impegna', select('holder_id', parties.map((p) => [p.holder_id, p.holder_name]), '', { placeholder: publicSide ? 'La parte pubblica' : undefined })),
    field('Impegno', input('description', '', { maxlength: 500 }), { required: true }),
    h('div', { class: 'row' },
      field('Unità', select('unit', Object.entries(CONTRIBUTION_UNITS), 'hours', { placeholder: 'Nessuna (non misurabile)' })),
      field('Quantità', input('quantity', '', { type: 'number', min: 0, step: 0.5, inputmode: 'decimal' })),
      field('Entro il', input('due_by', '', { type: 'date' }))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiungi l\'impegno' }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const d = new FormData(form);
    const body = { description: d.get('description').trim(), holder_id: d.get('holder_id') || null, unit: d.get('unit') || null, due_by: d.get('due_by') || null };
    if (d.get('quantity')) body.quantity = Number(d.get('quantity'));
    try {
      await busy(form.querySelector('[type=submit]'), () => api(path, { method: 'POST', body }));
      dialog.close();
      flashNext('Impegno aggiunto.');
      onSaved();
    } catch (error) {
      showFormError(form, error);
    }
  });
  const dialog = openDialog('Nuovo impegno', form, { wide: true });
}

// --- /impegni ------------------------------------------------------------------------------------

async function overview(root, { session, navigate, rerender }) {
  const udp = session.role === 'udp_admin';
  const [projects, patti, commitments] = await Promise.all([
    api('/api/codesigns'), api('/api/patti'), udp ? Promise.resolve([]) : api('/api/commitments'),
  ]);
  root.append(pageHeader(udp ? 'Co-progettazioni e patti di collaborazione' : 'I miei impegni', {
    help: 'Gli impegni presi in una co-progettazione o in un patto di collaborazione. Quanto è stato dato si registra come ogni contributo e, confermato, conta nelle cifre dell\'ambito.',
    lead: udp
      ? 'I progetti nati dalle proposte dei tavoli e i patti con le realtà della comunità: chi si è impegnato a cosa, e quanto risulta dato nel registro dei contributi.'
      : 'Quello che la vostra organizzazione si è impegnata a dare nelle co-progettazioni e nei patti di collaborazione, accanto a quanto risulta dato.',
    actions: udp ? [
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => newProject(navigate) }, 'Nuova co-progettazione'),
      h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => newPatto(navigate) }, 'Nuovo patto'),
    ] : null,
  }));
  if (!udp) {
    root.append(h('section', { class: 'card', 'aria-labelledby': 'mine-title' }, h('h2', { id: 'mine-title', text: 'Impegni della vostra organizzazione' }),
      commitmentsTable(commitments, { caption: 'Impegni', canRecord: () => true, onRecorded: rerender, where: (c) => origin(c, projects, patti) })));
  }
  root.append(h('section', { class: 'card', 'aria-labelledby': 'projects-title' }, h('h2', { id: 'projects-title', text: 'Co-progettazioni' }),
    projects.length
      ? h('ul', null, projects.map((p) => h('li', null, h('a', { href: `#/impegni/progetti/${p.id}`, text: p.title }),
        h('span', { class: 'small muted', text: ` · ${label(PROJECT_STATUS, p.status)} · ${count(p.partners.length, 'partner', 'partner')} · ${count(p.commitments.length, 'impegno', 'impegni')}` }))))
      : emptyState('Nessuna co-progettazione', udp ? 'Avviala da una proposta emersa ai tavoli della co-programmazione.' : null)));
  root.append(h('section', { class: 'card', 'aria-labelledby': 'patti-title' }, h('h2', { id: 'patti-title', text: 'Patti di collaborazione' }),
    patti.length
      ? h('ul', null, patti.map((p) => h('li', null, h('a', { href: `#/impegni/patti/${p.id}`, text: p.title }),
        h('span', { class: 'small muted', text: ` · ${label(PATTO_STATUS, p.status)} · dal ${fmt.date(p.starts_on)} al ${fmt.date(p.ends_on)}${p.next_report_due ? ` · relazione attesa entro il ${fmt.date(p.next_report_due)}` : ''}` }))))
      : emptyState('Nessun patto di collaborazione', udp ? 'Un patto lega il comune o l\'ambito a realtà della comunità o gruppi informali per curare un bene comune.' : null)));
}

/** The co-design or patto a commitment belongs to, as a link. */
function origin(c, projects, patti) {
  const project = c.project_id && projects.find((p) => p.id === c.project_id);
  const patto = c.patto_id && patti.find((p) => p.id === c.patto_id);
  if (project) return h('div', { class: 'small' }, 'Co-progettazione: ', h('a', { href: `#/impegni/progetti/${project.id}`, text: project.title }));
  if (patto) return h('div', { class: 'small' }, 'Patto: ', h('a', { href: `#/impegni/patti/${patto.id}`, text: patto.title }));
  return null;
}

async function newProject(navigate) {
  const [procedures, holders] = await Promise.all([api('/api/coprogramming/procedures'), apiAll('/api/holders')]);
  const proposals = (await Promise.all(procedures.map((p) => api(`/api/coprogramming/procedures/${p.id}/proposals`).catch(() => [])))).flat();
  const procedureOf = Object.fromEntries(proposals.map((p) => [p.id, p.procedure_id]));
  const form = h('form', { novalidate: true, class: 'stack' },
    field('Dalla proposta', select('proposal_id', proposals.map((p) => [p.id, `${p.text} (${p.table_theme})`]), '', { placeholder: 'Nessuna proposta' })),
    field('Titolo', input('title', '', { maxlength: 200 }), { required: true }),
    field('Descrizione', textarea('description', '', { rows: 3 })),
    h('div', { class: 'row' }, field('Inizio', input('starts_on', italyTodayIso(), { type: 'date' }), { required: true }), field('Fine', input('ends_on', '', { type: 'date' }))),
    field('Capofila', select('lead', holders.map((x) => [x.id, x.name]), '', { placeholder: 'Scegli' }), { required: true }),
    checkboxGroup('Altri partner', 'partners', holders.map((x) => [x.id, x.name]), [], { columns: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Avvia la co-progettazione' }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const d = new FormData(form);
    const lead = d.get('lead');
    const partners = [...(lead ? [{ holder_id: lead, role: 'lead' }] : []), ...checkedValues(form, 'partners').filter((x) => x !== lead).map((x) => ({ holder_id: x, role: 'partner' }))];
    const proposal = d.get('proposal_id') || null;
    const body = {
      title: d.get('title').trim(), description: d.get('description'), proposal_id: proposal, procedure_id: proposal ? procedureOf[proposal] : null,
      starts_on: d.get('starts_on'), ends_on: d.get('ends_on') || null, partners,
    };
    try {
      const saved = await busy(form.querySelector('[type=submit]'), () => api('/api/codesigns', { method: 'POST', body }));
      dialog.close();
      flashNext(`Co-progettazione «${saved.title}» avviata.`);
      navigate(`/impegni/progetti/${saved.id}`);
    } catch (error) {
      showFormError(form, error);
    }
  });
  const dialog = openDialog('Nuova co-progettazione', form, { wide: true });
}

async function newPatto(navigate) {
  const [holders, comuneList] = await Promise.all([apiAll('/api/holders'), comuni()]);
  const today = italyToday();
  const form = h('form', { novalidate: true, class: 'stack' },
    field('Titolo', input('title', '', { maxlength: 200 }), { required: true }),
    field('Oggetto', textarea('object', '', { rows: 3 })),
    h('div', { class: 'row' },
      field('Parte pubblica', select('public_party', Object.entries(PUBLIC_PARTY), 'comune')),
      field('Comune', select('comune', comuneList.map((c) => [c.istat_code, c.name]), '', { placeholder: 'Scegli' }))),
    checkboxGroup('Realtà della comunità firmatarie', 'parties', holders.map((x) => [x.id, x.name]), [], { columns: true }),
    h('div', { class: 'row' },
      field('Inizio', input('starts_on', isoDate(today), { type: 'date' }), { required: true }),
      field('Fine', input('ends_on', isoDate(new Date(today.getFullYear() + 1, today.getMonth(), today.getDate())), { type: 'date' }), { required: true }),
      field('Relazione ogni (mesi)', input('report_every_months', 6, { type: 'number', min: 1, max: 24 }))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Registra il patto' }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const d = new FormData(form);
    const body = {
      title: d.get('title').trim(), object: d.get('object'), public_party: d.get('public_party'), comune: d.get('comune') || null,
      parties: checkedValues(form, 'parties'), starts_on: d.get('starts_on'), ends_on: d.get('ends_on'), report_every_months: Number(d.get('report_every_months') || 6),
    };
    try {
      const saved = await busy(form.querySelector('[type=submit]'), () => api('/api/patti', { method: 'POST', body }));
      dialog.close();
      flashNext(`Patto «${saved.title}» registrato.`);
      navigate(`/impegni/patti/${saved.id}`);
    } catch (error) {
      showFormError(form, error);
    }
  });
  const dialog = openDialog('Nuovo patto di collaborazione', form, { wide: true });
}

// --- /impegni/progetti/:id -------------------------------------------------------------------------

async function projectPage(root, { params, session, user, rerender }) {
  const udp = session.role === 'udp_admin';
  const [project, monitoring] = await Promise.all([api(`/api/codesigns/${params.id}`), api(`/api/codesigns/${params.id}/monitoring`)]);
  const canRecord = (c) => udp || (c.holder_id && c.holder_id === user?.holder_id);
  root.append(pageHeader(project.title, {
    crumbs: [[udp ? 'Co-progettazioni e patti' : 'I miei impegni', '#/impegni'], [project.title]],
    lead: `Co-progettazione · ${label(PROJECT_STATUS, project.status)} · dal ${fmt.date(project.starts_on)}${project.ends_on ? ` al ${fmt.date(project.ends_on)}` : ''}`,
    actions: udp ? [
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => commitmentDialog(`/api/codesigns/${project.id}/commitments`, project.partners, rerender) }, 'Aggiungi un impegno'),
      h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => partnerDialog(project, rerender) }, 'Aggiungi un partner'),
    ] : null,
  }));
  if (project.description) root.append(h('section', { class: 'card' }, documentText(project.description)));
  if (project.procedure_id) root.append(h('p', null, h('a', { href: `#/coprogrammazione/${project.procedure_id}`, text: 'Il procedimento di co-programmazione da cui nasce' })));
  root.append(h('section', { class: 'card', 'aria-labelledby': 'partners-title' }, h('h2', { id: 'partners-title', text: 'Partner' }),
    h('ul', null, project.partners.map((p) => h('li', { text: `${p.holder_name} (${label(ROLE, p.role)}) · dal ${fmt.date(p.joined_on)}` })))));
  root.append(h('section', { class: 'card', 'aria-labelledby': 'monitor-title' }, h('h2', { id: 'monitor-title', text: 'Impegni e quanto risulta dato' }),
    monitoring.partners.length
      ? h('ul', { class: 'small' }, monitoring.partners.map((p) => h('li', { text: `${p.holder_name}: ${agreeing(p.committed, p.unit, 'impegnat')}, ${agreeing(p.verified, p.unit, 'dat')}${p.kept_share === null ? '' : ` (${fmt.percent(p.kept_share)})`}` })))
      : null,
    commitmentsTable(monitoring.commitments, { caption: 'Impegni dei partner', canRecord, onRecorded: rerender })));
  root.append(h('section', { class: 'card', 'aria-labelledby': 'timeline-title' }, h('h2', { id: 'timeline-title', text: 'Cronoprogramma' }),
    project.milestones.length
      ? h('ol', null, project.milestones.map((m) => h('li', null, `${fmt.date(m.due_on)}: ${m.title} `, m.done_on ? badge(`fatta il ${fmt.date(m.done_on)}`, 'fresh') : badge('da fare', 'neutral'),
        udp && !m.done_on ? [' ', h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Segna come fatta: ${m.title}`, onclick: (e) => done(e.currentTarget, m) }, 'Segna come fatta')] : null)))
      : h('p', { class: 'small muted', text: 'Nessuna tappa.' }),
    udp ? milestoneForm(project.id, rerender) : null));

  async function done(button, milestone) {
    try {
      await busy(button, () => api(`/api/codesigns/${project.id}/milestones/${milestone.id}`, { method: 'PATCH', body: { done_on: italyTodayIso() } }));
      flashNext(`Tappa «${milestone.title}» fatta.`);
      rerender();
    } catch (error) {
      flash(error.message, 'error');
    }
  }
}

function milestoneForm(projectId, onSaved) {
  const form = h('form', { novalidate: true, class: 'row', 'aria-label': 'Nuova tappa' },
    field('Tappa', input('title', '', { maxlength: 200 }), { required: true }),
    field('Entro il', input('due_on', italyTodayIso(), { type: 'date' }), { required: true }),
    h('button', { type: 'submit', class: 'btn btn-secondary btn-small', text: 'Aggiungi la tappa' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const d = new FormData(form);
    try {
      await busy(form.querySelector('[type=submit]'), () => api(`/api/codesigns/${projectId}/milestones`, { method: 'POST', body: { title: d.get('title').trim(), due_on: d.get('due_on') } }));
      flashNext('Tappa aggiunta.');
      onSaved();
    } catch (error) {
      showFormError(form, error);
    }
  });
  return form;
}

// --- /impegni/patti/:id ----------------------------------------------------------------------------

async function pattoPage(root, { params, session, user, rerender, navigate }) {
  const udp = session.role === 'udp_admin';
  const [patto, monitoring, reports, comuneList] = await Promise.all([
    api(`/api/patti/${params.id}`), api(`/api/patti/${params.id}/monitoring`), api(`/api/patti/${params.id}/reports`), comuni(),
  ]);
  const comuneName = Object.fromEntries(comuneList.map((c) => [c.istat_code, c.name]));
  const canRecord = (c) => udp || (c.holder_id && c.holder_id === user?.holder_id);
  root.append(pageHeader(patto.title, {
    crumbs: [[udp ? 'Co-progettazioni e patti' : 'I miei impegni', '#/impegni'], [patto.title]],
    lead: `Patto di collaborazione · ${label(PATTO_STATUS, patto.status)} · dal ${fmt.date(patto.starts_on)} al ${fmt.date(patto.ends_on)}`,
    actions: udp ? [
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => commitmentDialog(`/api/patti/${patto.id}/commitments`, patto.parties, rerender, { publicSide: true }) }, 'Aggiungi un impegno'),
      patto.status === 'active' ? h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => joinDialog(patto, rerender) }, 'Aggiungi una parte') : null,
      patto.status === 'active' || patto.status === 'closed' ? h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => renewDialog(patto, navigate) }, 'Rinnova il patto') : null,
    ] : null,
  }));
  root.append(h('section', { class: 'card', 'aria-labelledby': 'patto-title' }, h('h2', { id: 'patto-title', text: 'Le parti e l\'oggetto' }),
    h('dl', { class: 'facts' },
      h('dt', { text: 'Parte pubblica' }), h('dd', { text: patto.public_party === 'comune' ? `Comune di ${comuneName[patto.comune] || patto.comune}` : 'Ambito territoriale (Ufficio di Piano)' }),
      h('dt', { text: 'Realtà della comunità' }), h('dd', { text: patto.parties.map((p) => p.holder_name).join(', ') }),
      h('dt', { text: 'Durata' }), h('dd', { text: `dal ${fmt.date(patto.starts_on)} al ${fmt.date(patto.ends_on)}` }),
      h('dt', { text: 'Relazioni' }), h('dd', { text: `ogni ${count(patto.report_every_months, 'mese', 'mesi')}${patto.next_report_due ? `; la prossima entro il ${fmt.date(patto.next_report_due)}` : ''}` }),
      patto.renews_id ? [h('dt', { text: 'Rinnova' }), h('dd', null, h('a', { href: `#/impegni/patti/${patto.renews_id}`, text: 'il periodo precedente' }))] : null,
      patto.renewed_by_id ? [h('dt', { text: 'Rinnovato da' }), h('dd', null, h('a', { href: `#/impegni/patti/${patto.renewed_by_id}`, text: 'il periodo successivo' }))] : null),
    patto.object ? documentText(patto.object) : null));
  root.append(h('section', { class: 'card', 'aria-labelledby': 'pm-title' }, h('h2', { id: 'pm-title', text: 'Impegni di ciascuna parte e quanto risulta dato' }),
    commitmentsTable(monitoring.commitments, { caption: 'Impegni del patto', canRecord, onRecorded: rerender })));
  const reportsBox = h('section', { class: 'card', 'aria-labelledby': 'reports-title' }, h('h2', { id: 'reports-title', text: 'Relazioni periodiche' }),
    reports.length
      ? reports.map((r) => h('article', { class: 'report' },
        h('h3', { text: `Dal ${fmt.date(r.period_start)} al ${fmt.date(r.period_end)}` }),
        r.text ? documentText(r.text) : null,
        h('ul', { class: 'small' }, r.figures.by_unit.map((u) => h('li', { text: `${agreeing(u.verified, u.unit, 'verificat')}${u.self_reported ? `, ${amount(u.self_reported, u.unit)} da confermare` : ''} (${count(u.entries, 'registrazione', 'registrazioni')})` })))))
      : h('p', { class: 'small muted', text: 'Nessuna relazione ancora.' }));
  if (udp) reportsBox.append(reportForm(patto, rerender));
  root.append(reportsBox);
}

function partnerDialog(project, onSaved) {
  apiAll('/api/holders').then((holders) => {
    const taken = new Set(project.partners.map((p) => p.holder_id));
    const form = h('form', { novalidate: true, class: 'stack' },
      field('Organizzazione', select('holder_id', holders.filter((x) => !taken.has(x.id)).map((x) => [x.id, x.name]), '', { placeholder: 'Scegli' }), { required: true }),
      field('Partner dal', input('joined_on', italyTodayIso(), { type: 'date' })),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiungi il partner' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const d = new FormData(form);
      try {
        await busy(form.querySelector('[type=submit]'), () => api(`/api/codesigns/${project.id}/partners`, { method: 'POST', body: { holder_id: d.get('holder_id'), joined_on: d.get('joined_on') || null } }));
        dialog.close();
        flashNext('Partner aggiunto.');
        onSaved();
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog('Nuovo partner', form);
  }).catch((error) => flash(error.message, 'error'));
}

/** A holder joins a patto in force (the «adesione» the regulations allow). */
function joinDialog(patto, onSaved) {
  apiAll('/api/holders').then((holders) => {
    const taken = new Set(patto.parties.map((p) => p.holder_id));
    const form = h('form', { novalidate: true, class: 'stack' },
      field('Organizzazione o gruppo', select('holder_id', holders.filter((x) => !taken.has(x.id)).map((x) => [x.id, x.name]), '', { placeholder: 'Scegli' }), { required: true }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiungi la parte' }),
        h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await busy(form.querySelector('[type=submit]'), () => api(`/api/patti/${patto.id}/parties`, { method: 'POST', body: { holder_id: new FormData(form).get('holder_id') } }));
        dialog.close();
        flashNext('La nuova parte ha aderito al patto.');
        onSaved();
      } catch (error) {
        showFormError(form, error);
      }
    });
    const dialog = openDialog('Adesione al patto', form);
  }).catch((error) => flash(error.message, 'error'));
}

/** A new period of the patto, linked to this one; the commitments carried over if wished. */
function renewDialog(patto, navigate) {
  const [y, m, d] = patto.ends_on.split('-').map(Number);
  const form = h('form', { novalidate: true, class: 'stack' },
    h('p', { text: `Il nuovo periodo comincia il giorno dopo la fine di questo (${fmt.date(patto.ends_on)}).` }),
    field('Fine del nuovo periodo', input('ends_on', isoDate(new Date(y + 1, m - 1, d)), { type: 'date' }), { required: true }),
    h('div', { class: 'check' }, h('input', { type: 'checkbox', id: 'copy-commitments', name: 'copy_commitments', checked: true }), h('label', { for: 'copy-commitments', text: 'Riporta gli stessi impegni' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Rinnova' }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { ends_on: new FormData(form).get('ends_on'), copy_commitments: form.querySelector('#copy-commitments').checked };
    try {
      const renewed = await busy(form.querySelector('[type=submit]'), () => api(`/api/patti/${patto.id}/renewal`, { method: 'POST', body }));
      dialog.close();
      flashNext('Patto rinnovato: questo è il nuovo periodo.');
      navigate(`/impegni/patti/${renewed.id}`);
    } catch (error) {
      showFormError(form, error);
    }
  });
  const dialog = openDialog('Rinnova il patto', form);
}

function reportForm(patto, onSaved) {
  // The period ending at next_report_due began report_every_months earlier (the day after).
  let start = patto.starts_on;
  if (patto.next_report_due) {
    const [y, m, d] = patto.next_report_due.split('-').map(Number);
    const begin = new Date(y, m - 1 - patto.report_every_months, d + 1);
    start = isoDate(begin) < patto.starts_on ? patto.starts_on : isoDate(begin);
  }
  const form = h('form', { novalidate: true, class: 'stack', 'aria-label': 'Nuova relazione periodica' },
    h('h3', { text: 'Scrivi la relazione del periodo' }),
    h('div', { class: 'row' },
      field('Dal', input('period_start', start, { type: 'date' }), { required: true }),
      field('Al', input('period_end', patto.next_report_due || italyTodayIso(), { type: 'date' }), { required: true })),
    field('Relazione', textarea('text', '', { rows: 4 }), { hint: 'Le cifre del periodo (ore e beni dati) si aggiungono da sole dal registro dei contributi.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Salva la relazione' })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const d = new FormData(form);
    try {
      await busy(form.querySelector('[type=submit]'), () => api(`/api/patti/${patto.id}/reports`, { method: 'POST', body: { period_start: d.get('period_start'), period_end: d.get('period_end'), text: d.get('text') } }));
      flashNext('Relazione salvata.');
      onSaved();
    } catch (error) {
      showFormError(form, error);
    }
  });
  return form;
}

export default async function commitments(root, ctx) {
  if (ctx.path.startsWith('/impegni/progetti/')) return projectPage(root, ctx);
  if (ctx.path.startsWith('/impegni/patti/')) return pattoPage(root, ctx);
  return overview(root, ctx);
}
