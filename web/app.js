// The single-page app: a hash router, the page shell (header, menu per role) and focus
// management so keyboard and screen-reader users land on each new screen's title.

import { api, clearSession, endSession, getSession, setUnauthorizedHandler } from './js/api.js';
import { h, clear } from './js/dom.js';
import { ROLES, label } from './js/i18n.js';
import { ambito, me, resetStore } from './js/store.js';
import { announce, errorBox, loading, showPendingFlash } from './js/ui.js';

const ALL = ['udp_admin', 'social_worker', 'holder_manager', 'volunteer'];
const UDP = ['udp_admin'];
const SW = ['social_worker', 'udp_admin'];
const HM = ['holder_manager', 'udp_admin'];

// path pattern, module, roles allowed, menu label (per role) or null, and the notification
// types whose unread count the menu label shows ("Proposte (3)"; 'all': every unread one).
const ROUTES = [
  { path: '/accesso', load: () => import('./screens/login.js'), public: true },
  { path: '/regione', load: () => import('./screens/region.js'), public: true }, // the Region's own login and screen
  { path: '/', load: () => import('./screens/home.js'), roles: ALL, menu: 'Home' },
  { path: '/cruscotto', load: () => import('./screens/dashboard.js'), roles: ['udp_admin', 'social_worker'], menu: { udp_admin: 'Cruscotto' } },
  { path: '/tariffe', load: () => import('./screens/settings.js'), roles: UDP },
  { path: '/lacune', load: () => import('./screens/gaps.js'), roles: ['udp_admin', 'social_worker'], menu: 'Bisogni scoperti' },
  { path: '/ente', load: () => import('./screens/holder.js'), roles: ['holder_manager'], menu: 'La mia organizzazione' },
  { path: '/piani', load: () => import('./screens/plans.js'), roles: SW, menu: { social_worker: 'Piani personalizzati', udp_admin: 'Piani' }, counts: ['plan.shared', 'need.new_candidates', 'plan.review_overdue'] },
  { path: '/piani/nuovo', load: () => import('./screens/plan-edit.js'), roles: SW },
  { path: '/piani/:id', load: () => import('./screens/plan.js'), roles: SW },
  { path: '/piani/:id/stampa', load: () => import('./screens/plan-print.js'), roles: SW },
  { path: '/risorse', load: () => import('./screens/resources.js'), roles: ALL, menu: { holder_manager: 'Le mie risorse', default: 'Risorse' }, counts: ['resource.reconfirmation_requested', 'resource.stale', 'resource.expired', 'availability.expired'] },
  { path: '/risorse/nuova', load: () => import('./screens/resource-edit.js'), roles: HM },
  { path: '/risorse/:id', load: () => import('./screens/resource.js'), roles: ALL },
  { path: '/risorse/:id/modifica', load: () => import('./screens/resource-edit.js'), roles: HM },
  { path: '/mappa', load: () => import('./screens/map.js'), roles: ALL, menu: { udp_admin: 'Mappa', social_worker: 'Mappa' } },
  { path: '/proposte', load: () => import('./screens/matches.js'), roles: ['holder_manager', 'social_worker', 'udp_admin'], menu: { holder_manager: 'Proposte', social_worker: 'Abbinamenti', udp_admin: 'Abbinamenti' }, counts: ['match.proposed', 'match.accepted', 'match.declined', 'match.confirmed', 'match.completed', 'match.withdrawn'] },
  { path: '/contributi', load: () => import('./screens/contributions.js'), roles: ['holder_manager', 'social_worker', 'udp_admin'], menu: { holder_manager: 'Contributi', social_worker: 'Contributi', udp_admin: 'Contributi' }, counts: ['contribution.reported'] },
  { path: '/qr', load: () => import('./screens/qrcodes.js'), roles: ['holder_manager', 'social_worker', 'udp_admin'], menu: { holder_manager: 'Codici QR' }, counts: ['checkin.code_revoked'] },
  { path: '/ore', load: () => import('./screens/hours.js'), roles: ['volunteer', 'holder_manager'], menu: { volunteer: 'Le mie ore' }, counts: ['contribution.confirmed'] },
  { path: '/enti', load: () => import('./screens/holders.js'), roles: ALL, menu: { udp_admin: 'Enti', social_worker: 'Enti' } },
  { path: '/enti/nuovo', load: () => import('./screens/holder.js'), roles: UDP },
  { path: '/enti/:id', load: () => import('./screens/holder.js'), roles: ALL },
  { path: '/interventi', load: () => import('./screens/interventions.js'), roles: ['udp_admin', 'social_worker'], menu: { udp_admin: 'Interventi finanziati' } },
  { path: '/coprogrammazione', load: () => import('./screens/coprogramming.js'), roles: HM, menu: 'Co-programmazione', counts: ['coprogramming.application_decided', 'coprogramming.minutes_approved'] }, // issue 16
  { path: '/coprogrammazione/:id', load: () => import('./screens/coprogramming-procedure.js'), roles: HM },
  { path: '/coprogrammazione/:id/sessioni/:sid', load: () => import('./screens/coprogramming-session.js'), roles: HM },
  { path: '/impegni', load: () => import('./screens/coprogramming-commitments.js'), roles: HM, menu: { holder_manager: 'I miei impegni', udp_admin: 'Patti e co-progettazioni' }, counts: ['patto.report_due'] },
  { path: '/impegni/progetti/:id', load: () => import('./screens/coprogramming-commitments.js'), roles: HM },
  { path: '/impegni/patti/:id', load: () => import('./screens/coprogramming-commitments.js'), roles: HM },
  { path: '/utenti', load: () => import('./screens/users.js'), roles: UDP, menu: 'Utenti' },
  { path: '/password', load: () => import('./screens/password.js'), roles: ALL },
  { path: '/notifiche', load: () => import('./screens/notifications.js'), roles: ALL, menu: 'Notifiche', counts: 'all' },
  { path: '/privacy', load: () => import('./screens/privacy.js'), roles: ALL, menu: { udp_admin: 'Dati personali', default: 'I miei dati' }, counts: ['privacy.request_received', 'privacy.request_declined'] }, // issue 19
];

function compile(pattern) {
  const names = [];
  const regex = pattern.replace(/:(\w+)/g, (_, name) => { names.push(name); return '([^/]+)'; });
  return { regex: new RegExp(`^${regex}$`), names };
}
for (const route of ROUTES) Object.assign(route, compile(route.path));

function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', query: Object.fromEntries(new URLSearchParams(search)) };
}

export function navigate(path, query) {
  const search = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString() : '';
  const target = `#${path}${search ? `?${search}` : ''}`;
  if (window.location.hash === target) render();
  else window.location.hash = target;
}

/** Replace the query string without re-rendering (filters kept in the address for reload/back). */
export function replaceQuery(query) {
  const { path } = parseHash();
  const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString();
  history.replaceState(null, '', `#${path}${search ? `?${search}` : ''}`);
}

function menuLabel(route, role) {
  if (!route.menu) return null;
  if (typeof route.menu === 'string') return route.roles.includes(role) ? route.menu : null;
  return route.menu[role] ?? (route.roles.includes(role) ? route.menu.default : null) ?? null;
}

function renderShell(session, user, currentAmbito) {
  const nav = document.getElementById('site-nav');
  const list = document.getElementById('nav-list');
  const account = document.getElementById('account');
  clear(list);
  if (!session) {
    nav.hidden = true;
    account.hidden = true;
    document.getElementById('ambito-name').textContent = '';
    return;
  }
  for (const route of ROUTES) {
    const text = menuLabel(route, session.role);
    if (!text) continue;
    list.append(h('li', null, h('a', { href: `#${route.path}`, dataset: { path: route.path } }, text)));
  }
  nav.hidden = false;
  account.hidden = false;
  refreshUnread();
  document.getElementById('who').textContent = `${user?.username ?? session.username} · ${label(ROLES, session.role)}`;
  document.getElementById('ambito-name').textContent = currentAmbito?.name ? currentAmbito.name : '';
}

// Unread notifications counted on the menu items they concern: «Proposte (3)», read out as
// shown. Refreshed at each screen, after each action (a flash
// message), when the tab comes back into view and every minute.
let unreadTimer = null;
export function refreshUnread() {
  clearTimeout(unreadTimer);
  unreadTimer = setTimeout(async () => {
    const session = getSession();
    if (!session || !document.querySelector('#nav-list a')) return;
    let counts;
    try {
      counts = await api('/api/notifications/counts');
    } catch {
      return; // The counts are a convenience: the notifications page shows any error itself.
    }
    for (const route of ROUTES) {
      if (!route.counts) continue;
      const link = document.querySelector(`#nav-list a[data-path="${route.path}"]`);
      if (!link) continue;
      const count = route.counts === 'all'
        ? counts.unread
        : route.counts.reduce((sum, type) => sum + (counts.by_type[type] || 0), 0);
      link.querySelector('.menu-count')?.remove();
      // Plain text, so the name screen readers hear is exactly what is shown.
      if (count > 0) link.append(h('span', { class: 'menu-count', text: ` (${count})` }));
    }
  }, 300);
}
setInterval(refreshUnread, 60_000);
document.addEventListener('visibilitychange', () => { if (!document.hidden) refreshUnread(); });
// Every action of the screens ends with a flash message: the counts may have changed.
new MutationObserver((changes) => {
  if (changes.some((c) => c.target.id === 'flash' || c.target.closest?.('#flash'))) refreshUnread();
}).observe(document.getElementById('main'), { childList: true, subtree: true });

function markCurrent(path) {
  for (const link of document.querySelectorAll('#nav-list a')) {
    const target = link.dataset.path;
    const current = target === '/' ? path === '/' : path === target || path.startsWith(`${target}/`);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

let renderCount = 0;
let cleanup = null;

async function render() {
  const ticket = ++renderCount;
  const { path, query } = parseHash();
  const session = getSession();
  const main = document.getElementById('main');
  document.getElementById('nav-list').classList.remove('open');
  document.getElementById('nav-toggle').setAttribute('aria-expanded', 'false');

  let route = null;
  let params = {};
  for (const candidate of ROUTES) {
    const match = candidate.regex.exec(path);
    if (match) {
      route = candidate;
      params = Object.fromEntries(candidate.names.map((name, i) => [name, decodeURIComponent(match[i + 1])]));
      break;
    }
  }

  if (!session && !(route && route.public)) {
    const next = path !== '/' && path !== '/accesso' ? `${path}${window.location.hash.includes('?') ? `?${window.location.hash.split('?')[1]}` : ''}` : undefined;
    navigate('/accesso', next ? { next } : undefined);
    return;
  }
  if (session && route && route.public) {
    navigate('/');
    return;
  }

  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  clear(main);
  const flashBox = h('div', { id: 'flash' });
  const body = h('div', { class: 'screen' });
  main.append(flashBox, body);
  body.append(loading());

  let user = null;
  try {
    if (session) {
      [user] = await Promise.all([me(), ambito().then((a) => renderShell(session, null, a))]);
      renderShell(session, user, await ambito());
    } else {
      renderShell(null);
    }
  } catch (error) {
    if (ticket !== renderCount) return;
    clear(body).append(errorBox(error, { retry: render }));
    return;
  }
  markCurrent(path);

  if (!route) {
    clear(body).append(
      h('h1', { tabindex: '-1', text: 'Pagina non trovata' }),
      h('p', null, 'L\'indirizzo non corrisponde a nessuna pagina. ', h('a', { href: '#/', text: 'Torna alla home' }), '.'));
    focusTitle(main, 'Pagina non trovata');
    return;
  }
  if (session && !route.roles.includes(session.role)) {
    clear(body).append(
      h('h1', { tabindex: '-1', text: 'Accesso non consentito' }),
      h('p', null, `Questa pagina non è disponibile per il ruolo «${label(ROLES, session.role)}». `, h('a', { href: '#/', text: 'Torna alla home' }), '.'));
    focusTitle(main, 'Accesso non consentito');
    return;
  }

  try {
    const module = await route.load();
    if (ticket !== renderCount) return;
    const target = h('div', { class: 'screen' });
    const ctx = { params, query, session, user, navigate, replaceQuery, path, rerender: render, isCurrent: () => ticket === renderCount };
    const result = await module.default(target, ctx);
    if (ticket !== renderCount) return;
    body.replaceWith(target);
    cleanup = result && typeof result === 'function' ? result : null;
    focusTitle(main);
    showPendingFlash();
  } catch (error) {
    if (ticket !== renderCount) return;
    console.error(error);
    clear(body).append(h('h1', { tabindex: '-1', text: 'Si è verificato un problema' }), errorBox(error, { retry: render }));
    focusTitle(main);
  }
}

let firstRender = true;
function focusTitle(main) {
  const title = main.querySelector('h1');
  const text = title ? title.textContent : '';
  document.title = text ? `${text} · Registro delle risorse di comunità` : 'Registro delle risorse di comunità';
  // On first load the browser's own focus is right; afterwards move it to the new title.
  if (!firstRender && title) {
    title.focus({ preventScroll: false });
    announce(`Pagina: ${text}`);
  }
  firstRender = false;
}

export function logout(message) {
  clearSession();
  resetStore();
  renderShell(null);
  navigate('/accesso', message ? { msg: message } : undefined);
}

function setup() {
  setUnauthorizedHandler(() => logout('expired'));
  document.getElementById('logout').addEventListener('click', () => {
    // Ends the token on the server too (every process), not only in this tab.
    if (getSession()) api('/api/auth/logout', { method: 'POST' }).catch(() => {});
    endSession();
    logout('bye');
  });
  const toggle = document.getElementById('nav-toggle');
  toggle.addEventListener('click', () => {
    const list = document.getElementById('nav-list');
    const open = !list.classList.contains('open');
    list.classList.toggle('open', open);
    toggle.setAttribute('aria-expanded', String(open));
  });
  window.addEventListener('hashchange', render);
  render();
}

export { api };
setup();
