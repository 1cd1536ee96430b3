// The buttons that move a match through its lifecycle, per side (holder or plan).

import { api } from './api.js';
import { h } from './dom.js';
import { MATCH_STATUS, label } from './i18n.js';
import { busy, errorBox, flash, fmt, loading, openDialog, promptDialog } from './ui.js';
import { fill } from './dom.js';

const DONE = {
  accept: 'Proposta accettata: un posto della risorsa è riservato. L\'assistente sociale confermerà l\'avvio.',
  decline: 'Proposta rifiutata. Il motivo è stato inviato all\'assistente sociale.',
  confirm: 'Abbinamento avviato.',
  complete: 'Abbinamento concluso: il posto torna disponibile.',
  withdraw: 'Abbinamento ritirato.',
};

function actionButton(match, action, text, kind, onDone, { reason = false, reasonRequired = false } = {}) {
  const button = h('button', { type: 'button', class: ['btn', 'btn-small', kind], 'aria-label': `${text}: ${match.resource_title}` }, text);
  button.addEventListener('click', async () => {
    let body;
    if (reason) {
      const text2 = await promptDialog(
        action === 'decline' ? 'Perché rifiuti la proposta?' : 'Motivo (facoltativo)',
        'Motivo',
        {
          required: reasonRequired,
          hint: action === 'decline' ? 'Ad esempio «in quel giorno i volontari sono già impegnati»: aiuta a trovare un\'alternativa.' : undefined,
          confirmText: action === 'decline' ? 'Rifiuta la proposta' : 'Conferma',
        });
      if (text2 === null) return;
      body = { reason: text2 };
    }
    try {
      await busy(button, () => api(`/api/matches/${match.id}/${action}`, { method: 'POST', body }), 'Attendere…');
      flash(DONE[action]);
      await onDone();
    } catch (error) {
      flash(error.status === 409 ? `${error.message} Aggiorna la pagina per vedere lo stato attuale.` : error.message, 'error');
    }
  });
  return button;
}

export function historyButton(match) {
  return h('button', {
    type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Storia dell'abbinamento: ${match.resource_title}`,
    onclick: async () => {
      const body = h('div', null, loading());
      openDialog('Storia dell\'abbinamento', body);
      try {
        const events = await api(`/api/matches/${match.id}/history`);
        fill(body, h('ol', { class: 'rules' }, events.map((e) => h('li', null,
          h('span', { text: `${e.from_status ? `${label(MATCH_STATUS, e.from_status)} → ` : ''}${label(MATCH_STATUS, e.to_status)}${e.reason ? ` — «${e.reason}»` : ''}` }),
          h('span', { class: 'small muted', text: `${e.actor_username}, ${fmt.dateTime(e.at)}` })))));
      } catch (error) {
        fill(body, errorBox(error));
      }
    },
  }, 'Storia');
}

export function matchActions(match, side, onDone) {
  const buttons = [];
  if (side === 'holder') {
    if (match.status === 'proposed') buttons.push(actionButton(match, 'accept', 'Accetta', 'btn-success', onDone));
    if (['proposed', 'accepted'].includes(match.status)) buttons.push(actionButton(match, 'decline', 'Rifiuta', 'btn-danger', onDone, { reason: true, reasonRequired: true }));
  } else {
    if (match.status === 'accepted') buttons.push(actionButton(match, 'confirm', 'Conferma l\'avvio', 'btn-success', onDone));
    if (match.status === 'active') buttons.push(actionButton(match, 'complete', 'Concludi', 'btn-secondary', onDone, { reason: true }));
    if (['proposed', 'accepted', 'active'].includes(match.status)) buttons.push(actionButton(match, 'withdraw', 'Ritira', 'btn-danger', onDone, { reason: true }));
  }
  return h('span', { class: 'actions' }, buttons);
}
