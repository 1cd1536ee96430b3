import { api, apiAll } from '../js/api.js';
import { h } from '../js/dom.js';
import { AREAS, RESOURCE_STATUS, UNITS } from '../js/i18n.js';
import { canEdit, categorySelect, languageGroup } from '../js/resource-bits.js';
import { comuni, taxonomy } from '../js/store.js';
import {
  busy, checkboxGroup, checkedValues, emptyState, field, flashNext, input, pageHeader, select,
  showFormError, textarea,
} from '../js/ui.js';

const LABELS = {
  holder_id: 'Ente', title: 'Titolo', description: 'Descrizione', category_code: 'Categoria', unit: 'Unità',
  capacity: 'Capacità', comuni: 'Comuni serviti', target_groups: 'Destinatari', languages: 'Lingue',
  requirements: 'Requisiti', valid_from: 'Valida dal', valid_until: 'Fino al', status: 'Stato',
};

function splitList(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

export default async function resourceEdit(root, { params, session, user, navigate }) {
  const editing = Boolean(params.id);
  const [tax, comuneList] = await Promise.all([taxonomy(), comuni()]);
  const current = editing ? await api(`/api/resources/${params.id}`) : null;
  const title = editing ? `Modifica «${current.title}»` : 'Nuova risorsa';

  if (editing && !canEdit(session, user, current)) {
    root.append(pageHeader(title), emptyState('Non puoi modificare questa risorsa', 'Solo il referente dell\'ente e l\'Ufficio di Piano possono modificarla.', h('a', { class: 'btn btn-secondary', href: `#/risorse/${current.id}` }, 'Torna alla scheda')));
    return;
  }
  if (!editing && session.role === 'holder_manager' && !user.holder_id) {
    root.append(pageHeader(title), emptyState('Prima registra la tua organizzazione', 'Le risorse appartengono a un ente: registra la tua organizzazione, poi aggiungi ciò che offrite.', h('a', { class: 'btn btn-primary', href: '#/ente' }, 'Registra la mia organizzazione')));
    return;
  }

  const r = current || { title: '', description: '', category_code: '', unit: 'hours', capacity: 1, comuni: [], target_groups: [], languages: ['it'], requirements: [], valid_from: null, valid_until: null, status: 'active' };
  let holderField = null;
  if (!editing && session.role === 'udp_admin') {
    const holders = await apiAll('/api/holders');
    holderField = field('Ente', select('holder_id', holders.map((x) => [x.id, x.name]), '', { placeholder: 'Scegli l\'ente…' }), { required: true });
  }

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: editing ? 'Salva le modifiche' : 'Crea la risorsa' });
  const section = (legend, ...content) => h('fieldset', { class: 'form-section' }, h('legend', { text: legend }), ...content);
  const form = h('form', { class: 'card', novalidate: true },
    section('Che cosa offrite',
    holderField,
    field('Titolo', input('title', r.title, { maxlength: 200 }), { required: true, hint: 'Breve e chiaro, ad esempio «Accompagnamento a visite mediche»' }),
    field('Descrizione', textarea('description', r.description, { maxlength: 5000, rows: 4 }), { hint: 'Cosa offrite, come si accede, eventuali limiti' }),
    h('div', { class: 'row' },
      field('Categoria', categorySelect(tax, r.category_code, { placeholder: 'Scegli una categoria…' }), { required: true }),
      field('Unità di misura', select('unit', Object.entries(UNITS).filter(([k]) => k !== 'people'), r.unit), { required: true }),
      field('Capacità', input('capacity', r.capacity, { type: 'number', min: 0, max: 100000, inputmode: 'numeric' }), { hint: 'Quante unità in totale' }))),
    section('Per chi e dove',
    checkboxGroup('Comuni serviti', 'comuni', comuneList.map((c) => [c.istat_code, c.name]), r.comuni, { hint: 'Nessuna scelta = tutto l\'ambito', columns: true }),
    checkboxGroup('Destinatari', 'target_groups', Object.entries(AREAS), r.target_groups, { columns: true }),
    languageGroup(r.languages, { hint: 'Le lingue in cui la risorsa è offerta' }),
    field('Requisiti', input('requirements', r.requirements.join(', ')), { hint: 'Ad esempio «minori» se serve l\'idoneità a lavorare con minori' })),
    section('Validità',
    h('div', { class: 'row' },
      field('Valida dal', input('valid_from', r.valid_from || '', { type: 'date' })),
      field('Fino al', input('valid_until', r.valid_until || '', { type: 'date' }), { hint: 'Vuoto: senza scadenza' }),
      field('Stato', select('status', Object.entries(RESOURCE_STATUS).filter(([k]) => ['active', 'paused'].includes(k) || k === r.status), r.status)))),
    h('div', { class: 'actions' },
      submit,
      h('a', { class: 'btn btn-secondary', href: editing ? `#/risorse/${r.id}` : '#/risorse' }, 'Annulla')));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      title: data.get('title').trim(),
      description: data.get('description').trim(),
      category_code: data.get('category_code'),
      unit: data.get('unit'),
      capacity: Number(data.get('capacity') || 0),
      comuni: checkedValues(form, 'comuni'),
      target_groups: checkedValues(form, 'target_groups'),
      languages: checkedValues(form, 'languages'),
      requirements: splitList(data.get('requirements')),
      valid_from: data.get('valid_from') || null,
      valid_until: data.get('valid_until') || null,
    };
    const statusValue = data.get('status');
    if (!['stale', 'expired'].includes(statusValue)) body.status = statusValue;
    const missing = {};
    if (!body.title) missing.title = 'Scrivi un titolo.';
    if (!body.category_code) missing.category_code = 'Scegli una categoria.';
    if (holderField && !data.get('holder_id')) missing.holder_id = 'Scegli l\'ente.';
    if (Object.keys(missing).length) {
      showFormError(form, { message: 'Completa i campi obbligatori.', fieldMessages: () => missing }, LABELS);
      return;
    }
    try {
      let saved;
      if (editing) {
        saved = await busy(submit, () => api(`/api/resources/${r.id}`, { method: 'PATCH', body }), 'Salvataggio…');
        flashNext('Modifiche salvate.');
      } else {
        body.holder_id = holderField ? data.get('holder_id') : user.holder_id;
        saved = await busy(submit, () => api('/api/resources', { method: 'POST', body }), 'Salvataggio…');
        flashNext('Risorsa creata. Ora indica quando è disponibile: fai clic su un giorno del calendario.');
      }
      navigate(`/risorse/${saved.id}`);
    } catch (error) {
      showFormError(form, error, LABELS);
    }
  });

  root.append(pageHeader(title, {
    crumbs: [['Risorse', '#/risorse'], ...(editing ? [[r.title, `#/risorse/${r.id}`]] : []), [editing ? 'Modifica' : 'Nuova']],
    lead: 'I campi con l\'asterisco (*) sono obbligatori. Gli orari si indicano dopo, nel calendario della risorsa.',
  }), form);
}
