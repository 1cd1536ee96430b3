// The user's own password change: needs the current password; the API answers with a new
// token, because the change ends every session opened before it (on every device).
import { api, getSession, setSession } from '../js/api.js';
import { h } from '../js/dom.js';
import { busy, field, flash, input, pageHeader, showFormError } from '../js/ui.js';

const LABELS = { current_password: 'Password attuale', new_password: 'Nuova password', confirm: 'Ripeti la nuova password' };

export default async function password(root) {
  const current = input('current_password', '', { type: 'password', autocomplete: 'current-password' });
  const fresh = input('new_password', '', { type: 'password', autocomplete: 'new-password', minlength: 8 });
  const confirm = input('confirm', '', { type: 'password', autocomplete: 'new-password', minlength: 8 });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Cambia la password' });
  const form = h('form', { class: 'stack', novalidate: true },
    field(LABELS.current_password, current, { required: true }),
    field(LABELS.new_password, fresh, { required: true, hint: 'Almeno 8 caratteri' }),
    field(LABELS.confirm, confirm, { required: true }),
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (fresh.value !== confirm.value) {
      showFormError(form, { message: 'Le due nuove password non coincidono.', fieldMessages: () => ({ confirm: 'Non coincide con la nuova password.' }) }, LABELS);
      return;
    }
    try {
      const answer = await busy(submit, () => api('/api/auth/password', {
        method: 'POST', body: { current_password: current.value, new_password: fresh.value },
      }), 'Salvataggio…');
      setSession({ ...getSession(), token: answer.access_token, expires_at: Date.now() + (answer.expires_in - 60) * 1000 });
      form.reset();
      flash('Password cambiata. Le sessioni aperte su altri dispositivi sono state chiuse.');
    } catch (error) {
      current.value = '';
      showFormError(form, error, LABELS);
    }
  });

  root.append(
    pageHeader('Cambia password', { lead: 'Dopo il cambio, gli accessi aperti su altri dispositivi vengono chiusi.' }),
    h('section', { class: 'card' }, form));
}
