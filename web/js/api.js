// The API client: bearer token from sessionStorage, JSON in and out, errors as ApiError
// with an Italian message a person can act on.

const SESSION_KEY = 'registry.session';

export function getSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (session && session.expires_at && Date.now() > session.expires_at) {
      sessionStorage.removeItem(SESSION_KEY);
      return null;
    }
    return session;
  } catch {
    return null;
  }
}

export function setSession(session) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

// Tokens of the sessions the user ended in this tab (logging out).
const ended = new Set();

/** Forget the session on purpose: a 401 still to come for its requests is no expiry. */
export function endSession() {
  const session = getSession();
  if (session) ended.add(session.token);
  clearSession();
}

const STATUS_TEXT = {
  400: 'I dati inviati non sono validi',
  401: 'Accesso non autorizzato',
  403: 'Non hai i permessi per questa operazione',
  404: 'Elemento non trovato',
  405: 'Operazione non disponibile',
  409: "L'operazione è in conflitto con lo stato attuale",
  413: 'I dati inviati sono troppo grandi',
  415: 'Formato dei dati non supportato',
  422: 'I dati inviati non sono validi',
  429: 'Troppe richieste: attendi qualche secondo e riprova',
  500: 'Errore interno del server: è stato registrato, riprova più tardi',
  502: 'Il server non è raggiungibile in questo momento',
  503: 'Il servizio è temporaneamente non disponibile',
};

// The API's messages are in English; the frequent ones get an Italian wording. Each entry:
// pattern, Italian text ($1... from the pattern).
const KNOWN_DETAILS = [
  // registry/text.py: the one-line message first (it also says "control character").
  [/it must be one line of text/i, 'Deve stare su una sola riga: niente a capo, tabulazioni o caratteri di controllo.'],
  [/contains a control character/i, 'Contiene un carattere di controllo invisibile (ad esempio incollato da Word): eliminalo.'],
  [/not a valid e-mail address/i, 'Indirizzo e-mail non valido.'],
  [/wrong username or password/i, 'Nome utente o password errati.'],
  [/invalid or expired token/i, 'La sessione è scaduta: accedi di nuovo.'],
  [/missing bearer token/i, 'Devi accedere per continuare.'],
  [/no longer exists or was deactivated/i, 'Questo account è stato disattivato.'],
  [/this session has ended/i, 'La sessione è stata chiusa (uscita, nuova password o account modificato): accedi di nuovo.'],
  [/too many failed logins: try again in (\d+) seconds/i, 'Troppi tentativi di accesso non riusciti: riprova tra $1 secondi.'],
  [/the current password is wrong/i, 'La password attuale non è corretta.'],
  [/new password must differ/i, 'La nuova password deve essere diversa da quella attuale.'],
  [/cannot (deactivate|change the role of) your own account/i, 'Non puoi disattivare il tuo account né togliergli il ruolo di amministratore: deve farlo un altro amministratore UdP.'],
  [/last active udp_admin/i, "È l'ultimo amministratore UdP attivo dell'ambito: assegna prima il ruolo a un altro utente."],
  [/deactivated: activate it before resetting/i, "L'account è disattivato: riattivalo prima di creare il link per la nuova password."],
  [/needs one of the roles/i, 'Il tuo ruolo non consente questa operazione.'],
  [/end_time must be after start_time/i, "L'ora di fine deve essere dopo l'ora di inizio (nello stesso giorno)."],
  [/valid_until must not be before valid_from/i, 'La data di fine validità non può precedere quella di inizio.'],
  [/(end_date|period_end) must not be before (start_date|period_start)/i, 'La data di fine non può precedere quella di inizio.'],
  [/already manages a holder/i, 'Questo account gestisce già un ente.'],
  [/username '.*' is already taken/i, 'Questo nome utente è già in uso: scegline un altro.'],
  [/codice fiscale '(.*)' is not valid/i, 'Il codice fiscale «$1» non è valido: controlla lunghezza e caratteri.'],
  [/partita IVA '(.*)' is not valid/i, 'La partita IVA «$1» non è valida: controlla le 11 cifre.'],
  [/case code looks like an e-mail/i, 'Il codice del caso sembra un indirizzo e-mail: usa un codice pseudonimo, ad esempio ASC-2026-014.'],
  [/case code looks like a codice fiscale/i, 'Il codice del caso sembra un codice fiscale: usa un codice pseudonimo, ad esempio ASC-2026-014.'],
  [/case code looks like a phone/i, 'Il codice del caso sembra un numero di telefono: usa un codice pseudonimo, ad esempio ASC-2026-014.'],
  [/case code may contain only/i, 'Il codice del caso può contenere solo lettere, cifre e . _ / - (senza spazi).'],
  [/case code must contain at least one digit/i, 'Il codice del caso deve contenere almeno una cifra, ad esempio ASC-2026-014.'],
  [/a consent record .* is required/i, 'Per volontari singoli e reti informali serve il consenso al trattamento dei dati.'],
  [/belongs to sector/i, 'Il settore non è compatibile con il tipo di ente.'],
  [/Expected `str` of length >= (\d+)/, 'Troppo corto: servono almeno $1 caratteri.'],
  [/Expected `str` of length <= (\d+)/, 'Troppo lungo: al massimo $1 caratteri.'],
  [/Expected `(int|float)` >= (\S+)/, 'Il valore deve essere almeno $2.'],
  [/Expected `(int|float)` <= (\S+)/, 'Il valore deve essere al massimo $2.'],
  [/Object missing required field `(\w+)`/, 'Manca un campo obbligatorio ($1).'],
  [/conflicts with a record that already exists/i, 'Esiste già un elemento con questi dati.'],
  [/^no such (\w+)/i, 'Elemento non trovato (forse è stato archiviato o appartiene a un altro ambito).'],
];

/** The Italian wording of an API message, or null when there is none. */
export function translate(detail) {
  for (const [pattern, text] of KNOWN_DETAILS) {
    const match = pattern.exec(detail || '');
    if (match) return text.replace(/\$(\d)/g, (_, n) => match[Number(n)] ?? '');
  }
  return null;
}

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const detail = body && typeof body.detail === 'string' ? body.detail : '';
    super(ApiError.italian(status, detail, fallback));
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.field = body?.field ?? null;
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    this.body = body;
  }

  static italian(status, detail, fallback) {
    const known = translate(detail);
    if (known) return known;
    const head = fallback || STATUS_TEXT[status] || `Errore ${status}`;
    return detail && detail !== 'Not Found' ? `${head}. Dettaglio: ${detail}` : `${head}.`;
  }

  // Field name -> a short message for that field, from `field` and from Litestar's
  // `errors: [{key, message}]`.
  fieldMessages() {
    const found = {};
    if (this.field) found[this.field] = translate(this.detail) || `Valore non valido: ${this.detail}`;
    for (const item of this.errors) {
      if (item && item.key) found[item.key] = translate(item.message) || item.message || this.message;
    }
    return found;
  }
}

export class NetworkError extends Error {
  constructor() {
    super('Impossibile raggiungere il server. Controlla la connessione e riprova.');
    this.name = 'NetworkError';
    this.status = 0;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function buildUrl(path, query) {
  const url = new URL(path, window.location.origin);
  if (query) {
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === '') continue;
      if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(key, v));
      else url.searchParams.set(key, value);
    }
  }
  return url;
}

/**
 * Call the API. Options: method, body (JSON), form (FormData), query, headers,
 * as ('json' | 'blob' | 'response'), auth (default true).
 */
export async function api(path, options = {}) {
  const { method = 'GET', body, form, query, headers = {}, as = 'json', auth = true, signal } = options;
  const session = getSession();
  const allHeaders = { Accept: as === 'json' ? 'application/json' : '*/*', ...headers };
  if (auth && session) allHeaders.Authorization = `Bearer ${session.token}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    allHeaders['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(buildUrl(path, query), { method, headers: allHeaders, body: payload, signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new NetworkError();
  }
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    const error = new ApiError(response.status, data);
    // Not for a session the user ended: a request still in flight when they logged out is
    // refused with 401 too, and that is no expired session.
    if (response.status === 401 && auth && session && !ended.has(session.token)) {
      onUnauthorized(error);
    }
    throw error;
  }
  if (as === 'response') return response;
  if (as === 'blob') return response.blob();
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// Fetch every page of a paginated list (bounded, so a huge ambito cannot hang the browser).
export async function apiAll(path, query = {}, max = 1000) {
  const items = [];
  let offset = 0;
  const limit = 100;
  for (;;) {
    const page = await api(path, { query: { ...query, limit, offset } });
    const batch = Array.isArray(page) ? page : page.items;
    items.push(...batch);
    if (Array.isArray(page) || batch.length < limit || items.length >= (page.total ?? 0) || items.length >= max) break;
    offset += limit;
  }
  return items;
}

export function pageItems(answer) {
  if (Array.isArray(answer)) return { items: answer, total: answer.length };
  return { items: answer?.items ?? [], total: answer?.total ?? (answer?.items ?? []).length };
}

// A UUID for idempotency keys (crypto.randomUUID needs a secure context; loopback is one).
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Download a file from the API with the bearer token (a plain link cannot carry it).
export async function download(path, query, fallbackName) {
  const response = await api(path, { query, as: 'response' });
  const blob = await response.blob();
  const disposition = response.headers.get('content-disposition') || '';
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { name, size: blob.size };
}
