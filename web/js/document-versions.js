// Versioned documents (a session's minutes, a procedure's summary document): drafted, edited
// and approved the same way whichever document it is. An approved version is frozen; editing
// it opens the next version as a draft.

import { api } from './api.js';
import { h } from './dom.js';
import { busy, confirmDialog, field, flash, flashNext, openDialog, showFormError, textarea } from './ui.js';

/** POST to `path` (draft from the sources, approve), then redraw and say `done`. */
export async function postVersion(button, path, done, rerender) {
  try {
    await busy(button, () => api(path, { method: 'POST' }));
    flashNext(done);
    rerender();
  } catch (error) {
    flash(error.message, 'error');
  }
}

/** Approve once the user confirms (`question`, `consequence`): the text is frozen after. */
export async function approveVersion(button, path, { question, consequence, done }, rerender) {
  if (!await confirmDialog(question, consequence, { confirmText: 'Approva' })) return;
  await postVersion(button, path, done, rerender);
}

/** A dialog (`title`) to edit the text of `latest` (`label` names it) and PUT it to `path`. */
export function editVersion(latest, { title, label, path, done }, rerender) {
  const area = textarea('content', latest.content, { rows: 18 });
  const form = h('form', { novalidate: true, class: 'stack' },
    latest.status === 'approved' ? h('p', { class: 'notice notice-warning', text: `La versione ${latest.version} è approvata e resta com'è: salvando si apre la versione ${latest.version + 1} in bozza.` }) : null,
    field(label, area),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', text: 'Salva' }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: 'Annulla', onclick: () => dialog.close() })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await busy(form.querySelector('[type=submit]'), () => api(path, { method: 'PUT', body: { content: area.value } }));
      dialog.close();
      flashNext(done);
      rerender();
    } catch (error) {
      showFormError(form, error);
    }
  });
  const dialog = openDialog(title, form, { wide: true });
}
