// The Region's screen (issue 13): a regional observer logs in with its own account and reads
// the ambiti of its region side by side, with the figures each ambito's dashboard publishes.
// It keeps its own session (not the ambito one), so the ambito menu and calls never run.

import { api } from '../js/api.js';
import { h, fill, responsive } from '../js/dom.js';
import { busy, errorBox, field, fmt, input, loading, showFormError } from '../js/ui.js';

const KEY = 'registry.region';

function session() {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (value && Date.now() > value.expires_at) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return value;
  } catch {
    return null;
  }
}

function call(path, options = {}) {
  const current = session();
  return api(path, { ...options, auth: false, headers: current ? { Authorization: `Bearer ${current.token}` } : {} });
}

const COLUMNS = [
  ['residents', 'Residenti', fmt.number],
  ['hours_community', 'Ore dei volontari', fmt.number],
  ['hours_per_1000', 'Ore per 1.000 residenti', fmt.number],
  ['community_value_eur', 'Valore della comunità', fmt.euro],
  ['value_eur_per_1000', 'Valore per 1.000 residenti', fmt.euro],
  ['leverage_ratio', 'Leva sulla spesa pubblica', fmt.number],
  ['share_needs_community_only', 'Bisogni coperti solo dalla comunità', fmt.percent],
  ['share_needs_none', 'Bisogni non coperti', fmt.percent],
  ['share_resources_confirmed_90_days', 'Risorse confermate negli ultimi 90 giorni', fmt.percent],
  ['network_density', 'Densità della rete', fmt.number],
];

function cell(row, key, format) {
  const value = row[key];
  if (value === null || value === undefined) {
    const why = row.withheld.includes(key) ? 'nascosto (pochi casi)' : 'non disponibile';
    return h('td', { class: 'num' }, h('span', { 'aria-hidden': 'true', text: '—' }), h('span', { class: 'sr-only', text: why }));
  }
  return h('td', { class: 'num', text: format(value) });
}

function loginForm(root, onDone) {
  const username = input('username', '', { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  const password = input('password', '', { type: 'password', autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', text: 'Accedi' });
  const form = h('form', { class: 'stack', novalidate: true },
    field('Nome utente', username, { required: true }), field('Password', password, { required: true }), submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const answer = await busy(submit, () => api('/api/region/token', {
        method: 'POST', auth: false, body: { username: username.value.trim(), password: password.value },
      }), 'Accesso in corso…');
      sessionStorage.setItem(KEY, JSON.stringify({
        token: answer.access_token, region_name: answer.region_name, expires_at: Date.now() + (answer.expires_in - 60) * 1000,
      }));
      onDone();
    } catch (error) {
      password.value = '';
      showFormError(form, error, {}, { title: 'Accesso non riuscito' });
    }
  });
  fill(root, h('div', { class: 'login' },
    h('h1', { tabindex: '-1', text: 'Osservatorio regionale' }),
    h('p', { class: 'lead', text: 'Accesso per la Regione o il suo osservatorio: il confronto tra gli ambiti della regione, con i soli dati aggregati che ogni ambito pubblica.' }),
    h('section', { class: 'card', 'aria-label': 'Accesso' }, form)));
}

export default async function region(root) {
  const state = { from: '', to: '' };
  const body = h('div');

  async function load() {
    fill(body, loading());
    let answer;
    try {
      answer = await call('/api/region/ambiti', { query: state });
    } catch (error) {
      if (error.status === 401) {
        sessionStorage.removeItem(KEY);
        start();
        return;
      }
      fill(body, errorBox(error, { retry: load }));
      return;
    }
    const table = responsive(h('table', null,
      h('caption', { text: `Ambiti della regione ${answer.region_name}: ${answer.period.label}` }),
      h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Ambito' }), COLUMNS.map(([, label]) => h('th', { scope: 'col', class: 'num', text: label })))),
      h('tbody', null, answer.ambiti.map((row) => h('tr', null,
        h('th', { scope: 'row' }, h('span', { text: row.name }), row.notes.length ? h('div', { class: 'small muted', text: row.notes.join(' ') }) : null),
        COLUMNS.map(([key, , format]) => cell(row, key, format)))))));
    fill(body,
      answer.ambiti.length
        ? h('div', { class: 'card data-table' }, h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Confronto degli ambiti (scorre in orizzontale)' }, table))
        : h('p', { text: 'Nessun ambito attivo in questa regione.' }),
      h('ul', { class: 'small muted' }, [
        `Soglia di riservatezza: i conteggi sotto ${answer.threshold} e i valori calcolati da essi sono nascosti (—).`,
        ...answer.notes,
      ].map((note) => h('li', { text: note }))));
  }

  function exportButton(format, text) {
    const button = h('button', { type: 'button', class: 'btn', text });
    button.addEventListener('click', () => busy(button, async () => {
      try {
        const response = await call('/api/region/ambiti/export', { query: { ...state, format }, as: 'response' });
        const match = /filename="?([^";]+)"?/i.exec(response.headers.get('content-disposition') || '');
        const url = URL.createObjectURL(await response.blob());
        const link = h('a', { href: url, download: match ? match[1] : `confronto-ambiti.${format}` });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      } catch (error) {
        fill(body, errorBox(error, { retry: load }));
      }
    }, 'Preparazione…'));
    return button;
  }

  function start() {
    const current = session();
    if (!current) {
      loginForm(root, start);
      return;
    }
    const from = input('from', '', { type: 'month' });
    const to = input('to', '', { type: 'month' });
    const filters = h('form', { class: 'filters', 'aria-label': 'Periodo' },
      h('div', { class: 'row' }, field('Dal mese', from, { hint: 'vuoto: dall\'inizio dell\'anno' }), field('Al mese', to, { hint: 'vuoto: fino a oggi' }),
        h('button', { type: 'submit', class: 'btn btn-primary', text: 'Aggiorna' })));
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      if (from.value && to.value) {
        const [year, month] = to.value.split('-').map(Number);
        state.from = `${from.value}-01`;
        state.to = `${to.value}-${String(new Date(year, month, 0).getDate()).padStart(2, '0')}`;
      } else {
        state.from = '';
        state.to = '';
      }
      load();
    });
    const logout = h('button', { type: 'button', class: 'btn', text: 'Esci' });
    logout.addEventListener('click', () => {
      sessionStorage.removeItem(KEY);
      start();
    });
    fill(root,
      h('h1', { tabindex: '-1', text: `Confronto degli ambiti · ${current.region_name}` }),
      h('p', { class: 'lead', text: 'Gli stessi indicatori aggregati del cruscotto di ogni ambito, affiancati e rapportati ai residenti.' }),
      filters,
      h('div', { class: 'row', style: { margin: '1rem 0' } }, exportButton('csv', 'Scarica CSV (Excel)'), exportButton('xlsx', 'Scarica XLSX'), logout),
      body);
    load();
  }

  start();
}
