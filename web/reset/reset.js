// The page behind a reset link: /reset/#token=… . The token stays in the fragment (never
// sent to a server, so never in a log) and is taken off the address bar at once.
(function () {
  'use strict';
  var match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  var token = match ? decodeURIComponent(match[1]) : '';
  if (token) history.replaceState(null, '', window.location.pathname);

  var form = document.getElementById('form');
  var alertBox = document.getElementById('alert');
  var submit = document.getElementById('submit');

  function say(kind, text) {
    alertBox.className = 'notice notice-' + kind;
    alertBox.textContent = text;
    alertBox.hidden = false;
  }

  if (!token) {
    say('error', 'Il link è incompleto: copialo per intero dal messaggio ricevuto, oppure chiedine uno nuovo all\'Ufficio di Piano.');
    return;
  }
  form.hidden = false;
  document.getElementById('new-password').focus();

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var password = form.elements.new_password.value;
    if (password.length < 8) { say('error', 'La password deve avere almeno 8 caratteri.'); return; }
    if (password !== form.elements.confirm.value) { say('error', 'Le due password non coincidono.'); return; }
    submit.disabled = true;
    fetch('/api/auth/password-reset', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ token: token, new_password: password }),
    }).then(function (response) {
      if (response.status === 204) {
        form.hidden = true;
        document.getElementById('done').hidden = false;
        say('success', 'Password salvata. Ora puoi accedere con la nuova password.');
        return;
      }
      return response.json().catch(function () { return {}; }).then(function (body) {
        submit.disabled = false;
        if (body.field === 'token') {
          form.hidden = true;
          say('error', 'Questo link è scaduto o è già stato usato: chiedine uno nuovo all\'Ufficio di Piano.');
        } else if (JSON.stringify(body).indexOf('new_password') >= 0) {
          say('error', 'La password non è valida: servono da 8 a 256 caratteri.');
        } else {
          say('error', 'Non è stato possibile salvare la password (errore ' + response.status + '). Riprova più tardi.');
        }
      });
    }).catch(function () {
      submit.disabled = false;
      say('error', 'Impossibile raggiungere il server. Controlla la connessione e riprova.');
    });
  });
})();
