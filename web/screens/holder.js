import { api } from '../js/api.js';
import { h, clear, uid, fill } from '../js/dom.js';
import {
  AREAS, CONTACT_KINDS, HOLDER_KINDS, KINDS_NEEDING_CONSENT, SECTORS, SECTOR_OF_KIND, label,
} from '../js/i18n.js';
import { capacityText, comuniText, freshnessBadge } from '../js/resource-bits.js';
import { comuneNames, comuni, forgetMe, me } from '../js/store.js';
import {
  announce, busy, checkboxGroup, checkedValues, confirmDialog, emptyState, field, flash, flashNext, fmt,
  input, pageHeader, select, showFormError, textarea,
} from '../js/ui.js';

const LABELS = {
  kind: 'Tipo', sector: 'Settore', name: 'Nome', description: 'Descrizione', codice_fiscale: 'Codice fiscale',
  partita_iva: 'Partita IVA', runts_number: 'Numero RUNTS', address: 'Indirizzo', seat_comune: 'Comune della sede',
  comuni: 'Comuni in cui opera', areas: 'Aree di intervento', contacts: 'Contatti', public_listing: 'Visibilità',
  consent: 'Consenso al trattamento dei dati',
};

export default async function holderScreen(root, ctx) {
  const { params, session, path, navigate } = ctx;
  let { user } = ctx;
  const own = path === '/ente';
  const creating = path === '/enti/nuovo' || (own && !user.holder_id);
  const [comuneList, names] = await Promise.all([comuni(), comuneNames()]);

  if (creating) {
    root.append(pageHeader(own ? 'Registra la tua organizzazione' : 'Nuovo ente', {
      crumbs: own ? null : [['Enti', '#/enti'], ['Nuovo']],
      lead: own
        ? 'Prima di inserire le risorse, descrivi la tua organizzazione. Lo fai una volta sola; poi potrai sempre aggiornarla.'
        : 'Registra un ente, un gruppo informale o un volontario singolo dell\'ambito.',
    }));
    root.append(holderForm(null, async (saved) => {
      if (own) {
        forgetMe();
        user = await me();
        flashNext('Organizzazione registrata. Ora aggiungi la prima risorsa.');
        navigate('/risorse/nuova');
      } else {
        flashNext(`«${saved.name}» è stato registrato.`);
        navigate(`/enti/${saved.id}`);
      }
    }));
    return;
  }

  const holderId = own ? user.holder_id : params.id;
  let holder = await api(`/api/holders/${holderId}`);
  const manages = session.role === 'udp_admin' || (session.role === 'holder_manager' && user.holder_id === holder.id);
  const body = h('div');
  const header = h('div');

  function drawHeader() {
    fill(header, pageHeader(own ? `La mia organizzazione: ${holder.name}` : holder.name, {
      crumbs: own ? null : [['Enti', '#/enti'], [holder.name]],
      actions: manages ? [h('button', { type: 'button', class: 'btn btn-primary', onclick: edit }, 'Modifica il profilo')] : null,
    }));
  }

  function view() {
    drawHeader();
    const contacts = holder.contacts.length
      ? h('ul', null, holder.contacts.map((c) => h('li', null, `${label(CONTACT_KINDS, c.kind)}${c.label ? ` (${c.label})` : ''}: `,
        c.kind === 'email' ? h('a', { href: `mailto:${c.value}`, text: c.value })
          : c.kind === 'phone' ? h('a', { href: `tel:${c.value.replace(/\s+/g, '')}`, text: c.value })
            : c.kind === 'website' && /^https?:\/\//.test(c.value) ? h('a', { href: c.value, rel: 'noopener', target: '_blank', text: c.value })
              : c.value)))
      : h('p', { class: 'muted', text: 'Nessun contatto indicato.' });
    fill(body, 
      holder.status === 'archived' ? h('div', { class: 'notice notice-warning' }, h('p', { text: 'Questo ente è archiviato: non compare più nel registro.' })) : null,
      h('div', { class: 'grid-2' },
        h('section', { class: 'card', 'aria-labelledby': 'profile' },
          h('h2', { id: 'profile', text: 'Profilo' }),
          holder.description ? h('p', { text: holder.description }) : null,
          h('dl', { class: 'facts' },
            h('dt', { text: 'Tipo' }), h('dd', { text: label(HOLDER_KINDS, holder.kind) }),
            h('dt', { text: 'Settore' }), h('dd', { text: label(SECTORS, holder.sector) }),
            h('dt', { text: 'Codice fiscale' }), h('dd', { text: holder.codice_fiscale || '—' }),
            h('dt', { text: 'Partita IVA' }), h('dd', { text: holder.partita_iva || '—' }),
            h('dt', { text: 'Numero RUNTS' }), h('dd', { text: holder.runts_number || '—' }),
            h('dt', { text: 'Sede' }), h('dd', { text: [holder.address, names[holder.seat_comune]].filter(Boolean).join(', ') || '—' }),
            h('dt', { text: 'Comuni in cui opera' }), h('dd', { text: comuniText(holder.comuni, names, 50) }),
            h('dt', { text: 'Aree di intervento' }), h('dd', { text: holder.areas.map((a) => label(AREAS, a)).join(', ') || '—' }),
            h('dt', { text: 'Visibilità' }), h('dd', { text: holder.public_listing ? 'Compare nell\'elenco pubblico' : 'Visibile solo agli operatori' }),
            holder.consent ? [h('dt', { text: 'Consenso dati' }), h('dd', { text: `dato da ${holder.consent.given_by} il ${fmt.date(holder.consent.given_at)} (informativa ${holder.consent.text_version})` })] : null,
            h('dt', { text: 'Aggiornato' }), h('dd', { text: fmt.dateTime(holder.updated_at) }))),
        h('section', { class: 'card', 'aria-labelledby': 'contacts' },
          h('h2', { id: 'contacts', text: 'Contatti' }), contacts,
          session.role === 'udp_admin' && holder.status !== 'archived' ? archiveButton() : null)),
      resourcesSection());
  }

  function archiveButton() {
    const button = h('button', { type: 'button', class: 'btn btn-danger', style: { marginTop: '1rem' } }, 'Archivia l\'ente');
    button.addEventListener('click', async () => {
      const ok = await confirmDialog('Archiviare l\'ente?', `«${holder.name}» non comparirà più nel registro; contributi e abbinamenti restano nello storico.`, { confirmText: 'Archivia', danger: true });
      if (!ok) return;
      try {
        await busy(button, () => api(`/api/holders/${holder.id}`, { method: 'DELETE' }));
        flashNext(`«${holder.name}» è stato archiviato.`);
        navigate('/enti');
      } catch (error) {
        flash(error.message, 'error');
      }
    });
    return button;
  }

  function resourcesSection() {
    const list = h('div', null, h('p', { class: 'muted', text: 'Caricamento delle risorse…' }));
    api('/api/resources', { query: { holder_id: holder.id, limit: 100 } }).then((page) => {
      clear(list);
      if (!page.items.length) {
        list.append(emptyState('Nessuna risorsa registrata', manages ? 'Aggiungi ciò che l\'ente offre alla comunità.' : null,
          manages ? h('a', { class: 'btn btn-primary', href: '#/risorse/nuova' }, 'Aggiungi una risorsa') : null));
        return;
      }
      list.append(h('ul', { class: 'cards' }, page.items.map((r) => h('li', { class: 'item-card' },
        h('div', { class: 'item-head' }, h('h3', null, h('a', { href: `#/risorse/${r.id}`, text: r.title })), freshnessBadge(r)),
        h('p', { class: 'meta', text: `${capacityText(r)} · ${comuniText(r.comuni, names)}` })))));
    }).catch((error) => { fill(list, h('p', { class: 'field-error', text: error.message })); });
    return h('section', { 'aria-labelledby': 'res' }, h('h2', { id: 'res', text: 'Risorse offerte' }), list);
  }

  function edit() {
    drawHeader();
    fill(body, holderForm(holder, (saved) => {
      holder = saved;
      flash('Profilo aggiornato.');
      view();
      header.querySelector('h1').focus();
    }, () => { view(); header.querySelector('h1').focus(); }));
    body.querySelector('input, select')?.focus();
    announce('Modulo di modifica del profilo aperto.');
  }

  view();
  root.append(header, body);

  // --- the form, shared by create and edit --------------------------------------------------
  function holderForm(current, onSaved, onCancel) {
    const c = current || {
      kind: 'association', sector: 'third_sector', name: '', description: '', codice_fiscale: '', partita_iva: '',
      runts_number: '', address: '', seat_comune: '', comuni: [], areas: [], contacts: [], public_listing: true, consent: null,
    };
    const kind = select('kind', Object.entries(HOLDER_KINDS), c.kind);
    const sector = select('sector', Object.entries(SECTORS), c.sector);
    const consentBox = h('fieldset', { class: 'field card', dataset: { field: 'consent' } },
      h('legend', { text: 'Consenso al trattamento dei dati personali' }),
      h('p', { class: 'hint', text: 'Per volontari singoli e reti informali i dati sono di persone fisiche: serve il consenso, con la versione dell\'informativa accettata.' }),
      h('p', { class: 'field-error', hidden: true }),
      h('div', { class: 'row' },
        field('Consenso dato da', input('consent_given_by', c.consent?.given_by || '')),
        field('Data del consenso', input('consent_given_at', c.consent?.given_at ? c.consent.given_at.slice(0, 10) : '', { type: 'date' })),
        field('Versione dell\'informativa', input('consent_text_version', c.consent?.text_version || '', { placeholder: 'es. 2026-01' }))));
    function syncKind() {
      const allowed = SECTOR_OF_KIND[kind.value] || Object.keys(SECTORS);
      for (const option of sector.options) option.disabled = !allowed.includes(option.value);
      if (!allowed.includes(sector.value)) sector.value = allowed[0];
      consentBox.hidden = !KINDS_NEEDING_CONSENT.has(kind.value) && !c.consent;
    }
    kind.addEventListener('change', syncKind);

    const contactRows = h('div', { class: 'stack' });
    function addContact(contact = { kind: 'email', value: '', label: '' }) {
      const id = uid('contact');
      const row = h('div', { class: 'row contact-row', role: 'group', 'aria-label': 'Contatto' },
        field('Tipo di contatto', select('contact_kind', Object.entries(CONTACT_KINDS), contact.kind, {}), {}),
        field('Recapito', input('contact_value', contact.value, { id })),
        field('Etichetta', input('contact_label', contact.label, { placeholder: 'es. segreteria' })),
        h('button', { type: 'button', class: 'btn btn-danger btn-small', onclick: () => { row.remove(); announce('Contatto rimosso.'); } }, 'Rimuovi'));
      contactRows.append(row);
      return row;
    }
    (c.contacts.length ? c.contacts : [{ kind: 'email', value: '', label: '' }]).forEach((contact) => addContact(contact));

    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: current ? 'Salva il profilo' : 'Registra' });
    const form = h('form', { class: 'card', novalidate: true },
      field('Nome', input('name', c.name, { maxlength: 300, autocomplete: 'organization' }), { required: true }),
      h('div', { class: 'row' }, field('Tipo', kind, { required: true }), field('Settore', sector, { required: true, hint: 'Dipende dal tipo' })),
      field('Descrizione', textarea('description', c.description, { maxlength: 5000 }), { hint: 'Chi siete, cosa fate, per chi' }),
      h('div', { class: 'row' },
        field('Codice fiscale', input('codice_fiscale', c.codice_fiscale || '', { autocapitalize: 'characters', spellcheck: 'false' }), { hint: 'Enti: 11 cifre' }),
        field('Partita IVA', input('partita_iva', c.partita_iva || '', { inputmode: 'numeric' })),
        field('Numero RUNTS', input('runts_number', c.runts_number || '', { maxlength: 32 }), { hint: 'Registro unico nazionale del terzo settore' })),
      h('div', { class: 'row' },
        field('Indirizzo della sede', input('address', c.address, { maxlength: 300, autocomplete: 'street-address' })),
        field('Comune della sede', select('seat_comune', comuneList.map((x) => [x.istat_code, x.name]), c.seat_comune, { placeholder: '—' }))),
      checkboxGroup('Comuni in cui opera', 'comuni', comuneList.map((x) => [x.istat_code, x.name]), c.comuni, { columns: true }),
      checkboxGroup('Aree di intervento', 'areas', Object.entries(AREAS), c.areas, { columns: true }),
      h('fieldset', { class: 'field', dataset: { field: 'contacts' } },
        h('legend', { text: 'Contatti' }),
        h('p', { class: 'field-error', hidden: true }),
        contactRows,
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', style: { marginTop: '.5rem' }, onclick: () => addContact().querySelector('select').focus() }, '+ Aggiungi un contatto')),
      consentBox,
      h('div', { class: 'check field', dataset: { field: 'public_listing' } },
        h('input', { type: 'checkbox', id: 'public_listing', name: 'public_listing', checked: c.public_listing }),
        h('label', { for: 'public_listing', text: 'Mostra l\'ente nell\'elenco pubblico delle risorse' })),
      h('div', { class: 'actions' }, submit,
        onCancel ? h('button', { type: 'button', class: 'btn btn-secondary', onclick: onCancel }, 'Annulla') : h('a', { class: 'btn btn-secondary', href: '#/' }, 'Annulla')));
    syncKind();

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const contacts = [...contactRows.querySelectorAll('.contact-row')].map((row) => ({
        kind: row.querySelector('[name=contact_kind]').value,
        value: row.querySelector('[name=contact_value]').value.trim(),
        label: row.querySelector('[name=contact_label]').value.trim(),
      })).filter((x) => x.value);
      const body = {
        kind: data.get('kind'),
        sector: data.get('sector'),
        name: data.get('name').trim(),
        description: data.get('description').trim(),
        codice_fiscale: data.get('codice_fiscale').trim() || null,
        partita_iva: data.get('partita_iva').trim() || null,
        runts_number: data.get('runts_number').trim() || null,
        address: data.get('address').trim(),
        seat_comune: data.get('seat_comune') || null,
        comuni: checkedValues(form, 'comuni'),
        areas: checkedValues(form, 'areas'),
        contacts,
        public_listing: form.querySelector('#public_listing').checked,
      };
      const given = data.get('consent_given_at');
      if (!consentBox.hidden && given) {
        body.consent = {
          given_by: data.get('consent_given_by').trim(),
          given_at: `${given}T00:00:00Z`,
          text_version: data.get('consent_text_version').trim(),
        };
      } else if (!consentBox.hidden && current?.consent && !given) {
        body.consent = null;
      }
      if (!body.name) {
        showFormError(form, { message: 'Scrivi il nome dell\'ente.', fieldMessages: () => ({ name: 'Il nome è obbligatorio.' }) }, LABELS);
        return;
      }
      try {
        const saved = await busy(submit, () => (current
          ? api(`/api/holders/${current.id}`, { method: 'PATCH', body })
          : api('/api/holders', { method: 'POST', body })), 'Salvataggio…');
        await onSaved(saved);
      } catch (error) {
        showFormError(form, error, LABELS);
      }
    });
    return form;
  }
}
