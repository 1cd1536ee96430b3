import { api, setSession } from '../js/api.js';
import { h } from '../js/dom.js';
import { resetStore } from '../js/store.js';
import { busy, field, input, showFormError } from '../js/ui.js';

const MESSAGES = {
  expired: ['warning', 'La sessione è scaduta: accedi di nuovo per continuare.'],
  bye: ['info', 'Sei uscito dal registro.'],
};

export default async function login(root, { query, navigate }) {
  const username = input('username', '', { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  const password = input('password', '', { type: 'password', autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', text: 'Accedi' });
  const form = h('form', { class: 'stack', novalidate: true },
    field('Nome utente', username, { required: true }),
    field('Password', password, { required: true }),
    submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value) {
      showFormError(form, {
        message: 'Inserisci nome utente e password.',
        fieldMessages: () => ({
          ...(username.value.trim() ? {} : { username: 'Inserisci il nome utente.' }),
          ...(password.value ? {} : { password: 'Inserisci la password.' }),
        }),
      }, { username: 'Nome utente', password: 'Password' }, { title: 'Accesso non riuscito' });
      return;
    }
    try {
      const answer = await busy(submit, () => api('/api/auth/token', {
        method: 'POST', auth: false, body: { username: username.value.trim(), password: password.value },
      }), 'Accesso in corso…');
      resetStore();
      setSession({
        token: answer.access_token,
        role: answer.role,
        ambito_code: answer.ambito_code,
        username: username.value.trim(),
        // Leave a minute of margin so a request never leaves with a token about to expire.
        expires_at: Date.now() + (answer.expires_in - 60) * 1000,
      });
      const next = query.next && query.next.startsWith('/') ? query.next : '/';
      const [path, search] = next.split('?');
      navigate(path, search ? Object.fromEntries(new URLSearchParams(search)) : undefined);
    } catch (error) {
      password.value = '';
      showFormError(form, error, {}, { title: 'Accesso non riuscito' });
    }
  });

  const notice = MESSAGES[query.msg];
  root.append(
    h('div', { class: 'login' },
      h('h1', { tabindex: '-1', text: 'Accedi al registro' }),
      h('p', { class: 'lead', text: 'Il registro raccoglie le risorse non economiche della comunità — tempo, spazi, beni, servizi, relazioni — e le mette in contatto con i progetti personalizzati dell\'Ambito.' }),
      notice ? h('div', { class: ['notice', `notice-${notice[0]}`], role: 'status' }, h('p', { text: notice[1] })) : null,
      h('section', { class: 'card', 'aria-label': 'Accesso' }, form),
      h('p', { class: 'hint', text: 'Le credenziali sono fornite dall\'Ufficio di Piano. Se le hai dimenticate, contatta l\'Ufficio di Piano del tuo Ambito.' })));
}
