import { refreshUnread } from '../app.js';
import { api } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import {
  announce, badge, busy, checkboxGroup, checkedValues, confirmDialog, emptyState, errorBox, field, flash, fmt, input,
  loading, openDialog, pageHeader, resetErrors, showFormError,
} from '../js/ui.js';

const DELIVERY = { pending: ['In coda', 'info'], retrying: ['Nuovo tentativo', 'warning'], delivered: ['Consegnato', 'success'], dead: ['Non consegnato', 'danger'] };
const EVENTS = {
  'resource.reconfirmation_requested': 'Richiesta di conferma',
  'resource.stale': 'Risorsa da riconfermare',
  'resource.expired': 'Risorsa scaduta',
  'resource.reconfirmed': 'Risorsa confermata',
  'availability.expired': 'Disponibilità scaduta',
  'need.new_candidates': 'Nuove risorse per un bisogno',
  'match.proposed': 'Nuova proposta di abbinamento',
  'match.accepted': 'Proposta accettata',
  'match.declined': 'Proposta rifiutata',
  'match.confirmed': 'Abbinamento avviato',
  'match.completed': 'Abbinamento concluso',
  'match.withdrawn': 'Proposta ritirata',
  'contribution.reported': 'Contributo da confermare',
  'contribution.confirmed': 'Contributo confermato',
  'plan.shared': 'Piano condiviso con te',
  'plan.review_overdue': 'Verifica del piano in ritardo',
  'checkin.code_revoked': 'Codice QR revocato',
  'patto.report_due': 'Relazione del patto da presentare',
  'coprogramming.application_decided': 'Domanda di co-programmazione decisa',
  'coprogramming.minutes_approved': 'Verbale di sessione approvato',
  'privacy.request_received': 'Richiesta di cancellazione da eseguire',
  'privacy.request_declined': 'Richiesta di cancellazione respinta',
  'notification.digest': 'Riepilogo giornaliero',
  'webhook.ping': 'Prova webhook',
};

function safeLink(link) {
  // Only links of this registry or plain http(s): never javascript: or data: URLs.
  if (!link) return null;
  if (link.startsWith('#/')) return link;
  try {
    const url = new URL(link, window.location.origin);
    return ['http:', 'https:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

export default async function notifications(root, { session, query, replaceQuery }) {
  const udp = session.role === 'udp_admin';
  const tabs = [['mine', 'Le mie notifiche'], ['email', 'Preferenze e-mail'], ...(udp ? [['outbox', 'Consegne'], ['webhooks', 'Webhook']] : [])];
  let current = tabs.some(([k]) => k === query.tab) ? query.tab : 'mine';
  const panel = h('div', { id: 'notif-panel', role: 'tabpanel' });
  const tabBar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Sezioni' });

  function drawTabs() {
    fill(tabBar, tabs.map(([key, text]) => h('button', {
      type: 'button', role: 'tab', class: 'tab', 'aria-selected': String(current === key), 'aria-controls': 'notif-panel',
      onclick: () => { current = key; replaceQuery({ tab: key }); drawTabs(); show(); },
    }, text)));
  }

  async function show() {
    fill(panel, loading());
    try {
      if (current === 'mine') await mine();
      else if (current === 'email') await preferences();
      else if (current === 'outbox') await outbox();
      else await webhooks();
    } catch (error) {
      fill(panel, errorBox(error, { retry: show }));
    }
  }

  async function mine() {
    const page = await api('/api/notifications', { query: { limit: 100 } });
    announce(`${page.unread} notifiche da leggere`);
    if (!page.items.length) {
      fill(panel, emptyState('Nessuna notifica', 'Qui arrivano le proposte e le risposte sugli abbinamenti, i contributi da confermare, i promemoria per confermare le risorse e gli avvisi su nuove risorse adatte ai bisogni dei piani.'));
      return;
    }
    const readAll = h('button', { type: 'button', class: 'btn btn-secondary', disabled: !page.unread }, 'Segna tutte come lette');
    readAll.addEventListener('click', async () => {
      await busy(readAll, () => api('/api/notifications/read-all', { method: 'POST' }));
      flash('Tutte le notifiche sono segnate come lette.');
      await show();
    });
    fill(panel,
      h('div', { class: 'actions', style: { marginBottom: '1rem' } }, h('span', { text: `${page.unread} da leggere su ${page.total}` }), readAll),
      h('ul', { class: 'cards' }, page.items.map((n) => {
        const href = safeLink(n.link);
        const markRead = n.read_at ? null : h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Segna come letta: ${n.title}` }, 'Segna come letta');
        markRead?.addEventListener('click', async () => {
          try {
            await busy(markRead, () => api(`/api/notifications/${n.id}/read`, { method: 'POST' }));
            refreshUnread();
            await show();
          } catch (error) {
            flash(error.message, 'error');
          }
        });
        return h('li', { class: ['item-card', n.read_at ? 'read' : 'unread'] },
          h('div', { class: 'item-head' },
            h('h2', { text: n.title }),
            n.read_at ? badge('Letta', 'neutral') : badge('Nuova', 'info')),
          h('p', { class: 'meta', text: `${EVENTS[n.event_type] || n.event_type} · ${fmt.dateTime(n.created_at)}` }),
          n.body ? h('p', { text: n.body }) : null,
          h('div', { class: 'actions' },
            href ? h('a', { class: 'btn btn-primary btn-small', href, text: n.event_type.startsWith('resource.') ? 'Conferma o aggiorna' : 'Apri' }) : null,
            markRead));
      })));
  }

  async function preferences() {
    const prefs = await api('/api/notifications/preferences');
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Salva le preferenze' });
    const form = h('form', { novalidate: true },
      prefs.email_configured ? null : h('div', { class: 'notice notice-info', role: 'note' },
        h('p', { text: 'L\'invio di e-mail non è ancora configurato in questo registro: le tue scelte varranno da quando lo sarà. Le notifiche restano comunque qui.' })),
      field('Indirizzo e-mail', input('email', prefs.email, { type: 'email', autocomplete: 'email', maxlength: 320 }),
        { hint: 'Lascia vuoto per ricevere le notifiche solo qui, nel registro.' }),
      checkboxGroup('Ricevi per e-mail', 'email_events', prefs.available_events.map((e) => [e, EVENTS[e] || e]), prefs.email_events),
      h('div', { class: 'check field', dataset: { field: 'digest' } },
        h('input', { type: 'checkbox', id: 'digest', name: 'digest', checked: prefs.digest }),
        h('label', { for: 'digest', text: 'Un solo riepilogo al giorno (alle 7) invece di un\'e-mail per ogni notifica' })),
      h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      resetErrors(form);
      const body = {
        email: form.elements.email.value.trim(),
        email_events: checkedValues(form, 'email_events'),
        digest: form.elements.digest.checked,
      };
      try {
        await busy(submit, () => api('/api/notifications/preferences', { method: 'PUT', body }));
        flash(body.email ? 'Preferenze salvate: le notifiche scelte arriveranno anche per e-mail.' : 'Preferenze salvate: le notifiche restano solo nel registro.');
      } catch (error) {
        showFormError(form, error, { email: 'Indirizzo e-mail', email_events: 'Ricevi per e-mail', digest: 'Riepilogo' });
      }
    });
    fill(panel, form);
  }

  async function outbox() {
    const page = await api('/api/notifications/outbox', { query: { limit: 100 } });
    const c = page.counts;
    const stats = h('div', { class: 'stat-grid' },
      ...Object.entries(DELIVERY).map(([key, [text]]) => h('div', { class: 'stat' }, h('span', { class: 'value', text: fmt.number(c[key]) }), h('span', { class: 'what', text }))));
    if (!page.items.length) {
      fill(panel, stats, emptyState('Nessun messaggio in uscita', 'I messaggi verso webhook ed e-mail compaiono qui con il loro stato di consegna.'));
      return;
    }
    fill(panel, stats, h('div', { class: 'table-wrap' }, responsive(h('table', null,
      h('caption', { text: 'Messaggi in uscita, dal più recente' }),
      h('thead', null, h('tr', null, ['Evento', 'Canale', 'Destinatario', 'Stato', 'Tentativi', 'Ultimo errore', 'Creato', ''].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, page.items.map((m) => {
        const [text, kind] = DELIVERY[m.status] || [m.status, 'neutral'];
        const retry = m.status === 'dead' ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Riprova l'invio a ${m.recipient}` }, 'Riprova') : null;
        retry?.addEventListener('click', async () => {
          try {
            await busy(retry, () => api(`/api/notifications/outbox/${m.id}/retry`, { method: 'POST' }));
            flash('Messaggio rimesso in coda.');
            await show();
          } catch (error) {
            flash(error.message, 'error');
          }
        });
        return h('tr', null,
          h('td', { text: EVENTS[m.event_type] || m.event_type }),
          h('td', { text: m.channel === 'email' ? 'e-mail' : 'webhook' }),
          h('td', { text: m.recipient }),
          h('td', null, badge(text, kind)),
          h('td', { class: 'num', text: m.attempts }),
          h('td', { class: 'small', text: m.last_error || '—' }),
          h('td', { text: fmt.dateTime(m.created_at) }),
          h('td', null, retry));
      }))))));
  }

  async function webhooks() {
    const list = await api('/api/notifications/webhooks');
    const add = h('button', { type: 'button', class: 'btn btn-primary' }, '+ Aggiungi un webhook');
    add.addEventListener('click', () => {
      const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiungi' });
      const form = h('form', { novalidate: true },
        field('Indirizzo (URL)', input('url', '', { type: 'url', placeholder: 'https://…' }), { required: true, hint: 'Il registro invia qui gli eventi, firmati con una chiave segreta.' }),
        field('Descrizione', input('description', '', { maxlength: 200 })),
        h('div', { class: 'actions' }, submit));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        try {
          const created = await busy(submit, () => api('/api/notifications/webhooks', { method: 'POST', body: { url: data.get('url').trim(), description: data.get('description').trim() } }));
          fill(form,
            h('div', { class: 'notice notice-warning', role: 'status' }, h('p', { text: 'Copia ora la chiave segreta: non verrà più mostrata.' })),
            h('dl', { class: 'facts' },
              h('dt', { text: 'Chiave segreta' }), h('dd', null, h('code', { text: created.secret })),
              h('dt', { text: 'Intestazione della firma' }), h('dd', null, h('code', { text: created.signature_header }))),
            h('div', { class: 'actions', style: { marginTop: '1rem' } }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => dialog.close() }, 'Fatto')));
        } catch (error) {
          showFormError(form, error, { url: 'Indirizzo', description: 'Descrizione' });
        }
      });
      const dialog = openDialog('Nuovo webhook', form, { onClose: show });
      form.querySelector('input').focus();
    });
    if (!list.length) {
      fill(panel, emptyState('Nessun webhook', 'Un webhook fa arrivare gli eventi del registro (promemoria, risorse scadute, nuove risorse) a un altro sistema dell\'ambito.', add));
      return;
    }
    fill(panel, h('div', { class: 'actions', style: { marginBottom: '1rem' } }, add), h('ul', { class: 'cards' }, list.map((w) => {
      const ping = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Invia una prova');
      ping.addEventListener('click', async () => {
        try {
          await busy(ping, () => api(`/api/notifications/webhooks/${w.id}/ping`, { method: 'POST' }));
          flash('Prova messa in coda: controlla l\'esito in «Consegne».');
        } catch (error) {
          flash(error.message, 'error');
        }
      });
      const remove = h('button', { type: 'button', class: 'btn btn-danger btn-small' }, 'Elimina');
      remove.addEventListener('click', async () => {
        if (!await confirmDialog('Eliminare il webhook?', w.url, { confirmText: 'Elimina', danger: true })) return;
        try {
          await api(`/api/notifications/webhooks/${w.id}`, { method: 'DELETE' });
          flash('Webhook eliminato.');
          await show();
        } catch (error) {
          flash(error.message, 'error');
        }
      });
      return h('li', { class: 'item-card' },
        h('div', { class: 'item-head' }, h('h2', { text: w.url }), badge(w.active ? 'Attivo' : 'Sospeso', w.active ? 'success' : 'neutral')),
        h('p', { class: 'meta', text: `${w.description || 'Senza descrizione'} · eventi: ${w.events.length ? w.events.map((e) => EVENTS[e] || e).join(', ') : 'tutti'} · chiave …${w.secret_hint}` }),
        h('div', { class: 'actions' }, ping, remove));
    })));
  }

  root.append(pageHeader('Notifiche', {
    lead: udp ? 'Le tue notifiche, lo stato delle consegne verso webhook ed e-mail, e gli endpoint dell\'ambito.' : 'Proposte, risposte, contributi da confermare e promemoria del registro; scegli quali ricevere anche per e-mail.',
  }), tabBar, panel);
  drawTabs();
  await show();
}
