import { api } from '../js/api.js';
import { weekCalendar } from '../js/calendar.js';
import { h, clear, fill } from '../js/dom.js';
import { RESOURCE_STATUS, label } from '../js/i18n.js';
import {
  areasText, canEdit, capacityText, comuniText, confirmButton, freshnessBadge, languagesText, unitText,
} from '../js/resource-bits.js';
import { comuneNames, taxonomy } from '../js/store.js';
import { badge, busy, confirmDialog, flash, flashNext, fmt, pageHeader } from '../js/ui.js';

export default async function resource(root, { params, session, user, navigate }) {
  const [item, tax, names] = await Promise.all([api(`/api/resources/${params.id}`), taxonomy(), comuneNames()]);
  const editable = canEdit(session, user, item);
  const stillTrue = h('section', { class: 'card', 'aria-labelledby': 'still-true' });
  const statusBadge = h('span');

  function drawStillTrue(current) {
    fill(statusBadge, freshnessBadge(current));
    fill(stillTrue, 
      h('h2', { id: 'still-true', text: 'È ancora tutto vero?' }),
      h('p', null, 'Ultima conferma: ', h('strong', { text: `${fmt.dateTime(current.confirmed_at)} (${fmt.daysAgo(current.confirmed_at)})` }), '.'),
      editable
        ? h('div', null,
          h('p', { class: 'small muted', text: 'Se orari e capacità sono ancora quelli indicati, confermalo con un clic. Dopo 90 giorni senza conferma la risorsa non viene più suggerita.' }),
          confirmButton(current, (updated) => drawStillTrue(updated)))
        : h('p', { class: 'small muted', text: 'La conferma spetta al referente dell\'ente.' }));
  }
  drawStillTrue(item);

  const category = tax.byCode[item.category_code];
  const parent = category?.parent_code ? tax.byCode[category.parent_code] : null;
  const facts = h('dl', { class: 'facts' },
    h('dt', { text: 'Ente' }), h('dd', null, h('a', { href: `#/enti/${item.holder_id}`, text: item.holder_name })),
    h('dt', { text: 'Categoria' }), h('dd', { text: parent ? `${parent.name} › ${category.name}` : (category?.name ?? item.category_code) }),
    h('dt', { text: 'Capacità' }), h('dd', { text: `${capacityText(item)}` }),
    h('dt', { text: 'Comuni serviti' }), h('dd', { text: comuniText(item.comuni, names, 50) }),
    h('dt', { text: 'Destinatari' }), h('dd', { text: areasText(item.target_groups) }),
    h('dt', { text: 'Lingue' }), h('dd', { text: languagesText(item.languages) }),
    h('dt', { text: 'Requisiti' }), h('dd', { text: item.requirements.length ? item.requirements.join(', ') : 'nessuno' }),
    h('dt', { text: 'Validità' }), h('dd', { text: `${item.valid_from ? `dal ${fmt.date(item.valid_from)}` : 'da sempre'}${item.valid_until ? ` al ${fmt.date(item.valid_until)}` : ', senza scadenza'}` }),
    h('dt', { text: 'Stato' }), h('dd', { text: label(RESOURCE_STATUS, item.status) }),
    h('dt', { text: 'Ultima modifica' }), h('dd', { text: fmt.dateTime(item.updated_at) }));

  const actions = [];
  if (editable) {
    actions.push(h('a', { class: 'btn btn-secondary', href: `#/risorse/${item.id}/modifica` }, 'Modifica i dati'));
    if (item.status !== 'archived') {
      const archive = h('button', { type: 'button', class: 'btn btn-danger' }, 'Archivia');
      archive.addEventListener('click', async () => {
        const ok = await confirmDialog('Archiviare la risorsa?', `«${item.title}» non sarà più proposta. Lo storico di abbinamenti e contributi resta.`, { confirmText: 'Archivia', danger: true });
        if (!ok) return;
        try {
          await busy(archive, () => api(`/api/resources/${item.id}`, { method: 'DELETE' }));
          flashNext(`«${item.title}» è stata archiviata.`);
          navigate('/risorse');
        } catch (error) {
          flash(error.message, 'error');
        }
      });
      actions.push(archive);
    }
  }

  const calendar = weekCalendar({
    resourceId: item.id,
    editable,
    unitLabel: unitText(item.unit),
    // Saving availability also counts as a confirmation on the server: show it.
    onChange: async () => drawStillTrue(await api(`/api/resources/${item.id}`)),
  });

  root.append(
    pageHeader(item.title, {
      crumbs: [['Risorse', '#/risorse'], [item.title]],
      actions,
    }),
    h('p', { class: 'actions' }, statusBadge, item.status !== 'active' ? badge(label(RESOURCE_STATUS, item.status), 'warning') : null),
    h('div', { class: 'resource-layout' },
      h('div', { class: 'area-still' }, stillTrue),
      h('section', { class: 'card area-cal', 'aria-labelledby': 'availability' },
        h('h2', { id: 'availability', text: 'Disponibilità' }),
        editable ? h('p', { class: 'small muted', text: 'Fai clic su un orario libero per aggiungere una fascia in quel giorno, o su una fascia per cambiarla. Ogni modifica vale anche come conferma.' }) : null,
        calendar),
      h('section', { class: 'card area-facts', 'aria-labelledby': 'details' },
        h('h2', { id: 'details', text: 'Scheda' }),
        item.description ? h('p', { text: item.description }) : null,
        facts)));
}
