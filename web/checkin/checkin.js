// The phone page opened by a check-in QR code: log in if needed, then "Entrata" (check in)
// and "Uscita" (check out); the same two words as the volunteer's home. The login is shared with the web app (same sessionStorage key).
(function () {
  'use strict';

  var SESSION_KEY = 'registry.session';
  var token = new URLSearchParams(window.location.search).get('t');
  var $ = function (id) { return document.getElementById(id); };
  var openId = null; // the open presence to close with "Uscita"

  function session() {
    try {
      var s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
      if (s && s.expires_at && Date.now() > s.expires_at) {
        sessionStorage.removeItem(SESSION_KEY);
        return null;
      }
      return s;
    } catch (e) {
      return null;
    }
  }

  function show(id, visible) { $(id).hidden = !visible; }

  function alertBox(text) {
    $('alert').textContent = text || '';
    show('alert', Boolean(text));
  }

  function time(iso) {
    return new Date(iso).toLocaleTimeString('it-IT', { hour: '2-digit', minute: '2-digit' });
  }

  function dateTime(iso) {
    return new Date(iso).toLocaleString('it-IT', {
      day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
    });
  }

  function duration(minutes) {
    var h = Math.floor(minutes / 60);
    var m = minutes % 60;
    if (!h) return m + ' minuti';
    return h + (h === 1 ? ' ora' : ' ore') + (m ? ' e ' + m + ' minuti' : '');
  }

  // fetch with the bearer token; resolves to {status, body}; 0 means no connection.
  function call(method, path, body) {
    var s = session();
    var headers = { Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    if (s) headers.Authorization = 'Bearer ' + s.token;
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { status: response.status, body: data };
        });
      })
      .catch(function () { return { status: 0, body: {} }; });
  }

  function problem(answer) {
    if (answer.status === 0) return 'Connessione assente: controlla la rete e riprova.';
    if (answer.status === 401) return 'La sessione è scaduta: accedi di nuovo.';
    var detail = answer.body && typeof answer.body.detail === 'string' ? answer.body.detail : '';
    return detail || 'Si è verificato un errore (' + answer.status + '). Riprova.';
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  function needLogin(message) {
    sessionStorage.removeItem(SESSION_KEY);
    show('code', false); show('open', false); show('who', false); show('next', false);
    alertBox(message || '');
    show('login', true);
    $('username').focus();
  }

  // Closed without any time recorded (outside the code's window, or too short).
  function recordedNothing(presence) {
    return presence.status !== 'open' && !presence.contribution;
  }

  // After a check-out the page leads on: to the person's hours, or to declare them.
  function showNext(nothing) {
    show('nothing-hint', Boolean(nothing));
    show('next', true);
  }

  function renderPresence(presence) {
    var state = $('state');
    state.classList.remove('done');
    state.classList.remove('nothing');
    show('nothing-hint', false);
    openId = null;
    show('btn-in', false);
    show('btn-out', false);
    if (!presence) {
      state.textContent = 'Premi «Entrata» quando arrivi.';
      show('btn-in', true);
    } else if (presence.status === 'open') {
      openId = presence.id;
      state.textContent = presence.message || ('Entrata registrata alle ' + time(presence.checked_in_at) + '. Premi «Uscita» quando vai via.');
      show('btn-out', true);
    } else {
      var nothing = recordedNothing(presence);
      state.classList.add(nothing ? 'nothing' : 'done');
      state.textContent = presence.message || (
        'Presenza registrata: ' + time(presence.checked_in_at) + '–' + time(presence.checked_out_at)
        + (presence.minutes ? ' (' + duration(presence.minutes) + ')' : '') + '.');
      showNext(nothing);
    }
  }

  function renderOpen(list) {
    var ul = $('open-list');
    ul.textContent = '';
    list.forEach(function (presence) {
      var li = document.createElement('li');
      var p = document.createElement('p');
      p.textContent = presence.title + ' – ' + presence.holder_name + ': entrata alle '
        + time(presence.checked_in_at) + ' del ' + dateTime(presence.checked_in_at).split(',')[0] + '.';
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'big out';
      button.textContent = 'Uscita';
      button.addEventListener('click', function () { checkOut(presence.id, button, li); });
      li.appendChild(p);
      li.appendChild(button);
      ul.appendChild(li);
    });
    show('open', list.length > 0);
  }

  function loadOpen() {
    return call('GET', '/api/checkin/open').then(function (answer) {
      if (answer.status === 200) renderOpen(answer.body);
    });
  }

  function loadStatus() {
    var s = session();
    $('who-name').textContent = 'Accesso come ' + (s.username || 'utente');
    show('who', true);
    show('next', true);
    show('login', false);
    if (!token) {
      show('no-code', true);
      return loadOpen();
    }
    return call('GET', '/api/checkin/status?t=' + encodeURIComponent(token)).then(function (answer) {
      if (answer.status === 401) return needLogin('La sessione è scaduta: accedi di nuovo.');
      if (answer.status !== 200) {
        alertBox(problem(answer));
        show('code', false);
        return loadOpen(); // an expired code can still be closed from here
      }
      alertBox('');
      var code = answer.body.code;
      $('code-title').textContent = code.title;
      $('code-holder').textContent = code.holder_name;
      $('code-window').textContent = 'Codice valido dal ' + dateTime(code.valid_from) + ' al ' + dateTime(code.valid_until);
      show('code', true);
      renderPresence(answer.body.checkin);
      $('heading').focus();
      return null;
    });
  }

  function checkIn() {
    var button = $('btn-in');
    busy(button, true);
    alertBox('');
    call('POST', '/api/checkin/in', { token: token }).then(function (answer) {
      busy(button, false);
      if (answer.status === 401) return needLogin('La sessione è scaduta: accedi di nuovo.');
      if (answer.status !== 200 && answer.status !== 201) return alertBox(problem(answer));
      renderPresence(answer.body);
      $('btn-out').focus();
      return null;
    });
  }

  function checkOut(id, button, item) {
    busy(button, true);
    alertBox('');
    call('POST', '/api/checkin/out', { checkin_id: id }).then(function (answer) {
      busy(button, false);
      if (answer.status === 401) return needLogin('La sessione è scaduta: accedi di nuovo.');
      if (answer.status !== 200) return alertBox(problem(answer));
      if (item) {
        item.textContent = answer.body.message;
        if (recordedNothing(answer.body)) item.classList.add('nothing');
        showNext(recordedNothing(answer.body));
      } else {
        renderPresence(answer.body);
      }
      return null;
    });
  }

  $('btn-in').addEventListener('click', checkIn);
  $('btn-out').addEventListener('click', function () {
    if (openId) checkOut(openId, $('btn-out'), null);
  });

  $('login').addEventListener('submit', function (event) {
    event.preventDefault();
    var username = $('username').value.trim();
    var password = $('password').value;
    if (!username || !password) return alertBox('Scrivi nome utente e password.');
    var button = event.target.querySelector('button');
    busy(button, true);
    call('POST', '/api/auth/token', { username: username, password: password }).then(function (answer) {
      busy(button, false);
      if (answer.status !== 200) {
        return alertBox(answer.status === 401 ? 'Nome utente o password errati.' : problem(answer));
      }
      sessionStorage.setItem(SESSION_KEY, JSON.stringify({
        token: answer.body.access_token,
        role: answer.body.role,
        ambito_code: answer.body.ambito_code,
        username: username,
        expires_at: Date.now() + (answer.body.expires_in - 60) * 1000,
      }));
      $('password').value = '';
      alertBox('');
      return loadStatus();
    });
    return null;
  });

  $('logout').addEventListener('click', function () { needLogin(''); });

  if (session()) {
    loadStatus();
  } else {
    if (!token) show('no-code', true);
    needLogin('');
  }
})();
