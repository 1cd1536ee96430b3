// Italian labels for the API's vocabularies (the API speaks English codes).

export const ROLES = {
  udp_admin: 'Ufficio di Piano',
  social_worker: 'Assistente sociale',
  holder_manager: 'Referente di ente',
  volunteer: 'Volontario/a',
};

export const HOLDER_KINDS = {
  association: 'Associazione / ETS',
  social_cooperative: 'Cooperativa sociale',
  informal_network: 'Rete informale',
  individual_volunteer: 'Volontario/a singolo/a',
  parish: 'Parrocchia',
  school: 'Scuola',
  company: 'Impresa',
  public_office: 'Ente pubblico',
  other: 'Altro',
};

export const SECTORS = {
  public: 'Pubblico',
  third_sector: 'Terzo settore',
  informal: 'Informale',
  business: 'Impresa',
};

export const AREAS = {
  'famiglie-minori': 'Famiglie e minori',
  disabili: 'Disabilità',
  dipendenze: 'Dipendenze',
  anziani: 'Anziani',
  immigrati: 'Immigrati',
  'poverta-disagio-adulti': 'Povertà e disagio adulti',
  multiutenza: 'Multiutenza',
};

export const UNITS = {
  hours: 'ore',
  places: 'posti',
  items: 'pezzi',
  room_hours: 'ore di sala',
  trips: 'viaggi',
  meals: 'pasti',
  people: 'persone',
};

export const RESOURCE_STATUS = {
  active: 'Attiva',
  paused: 'In pausa',
  stale: 'Da riconfermare',
  expired: 'Scaduta',
  archived: 'Archiviata',
};

export const CONTACT_KINDS = {
  email: 'E-mail',
  phone: 'Telefono',
  website: 'Sito web',
  person: 'Persona di riferimento',
};

export const FREQUENCIES = {
  WEEKLY: 'Ogni settimana',
  DAILY: 'Ogni giorno',
  MONTHLY: 'Ogni mese',
};

// Monday first, as Italian calendars are.
export const DAYS = [
  ['MO', 'lunedì', 'lun'],
  ['TU', 'martedì', 'mar'],
  ['WE', 'mercoledì', 'mer'],
  ['TH', 'giovedì', 'gio'],
  ['FR', 'venerdì', 'ven'],
  ['SA', 'sabato', 'sab'],
  ['SU', 'domenica', 'dom'],
];
export const DAY_NAME = Object.fromEntries(DAYS.map(([code, name]) => [code, name]));

export const ORDINALS = { 1: 'il primo', 2: 'il secondo', 3: 'il terzo', 4: 'il quarto', 5: 'il quinto', '-1': "l'ultimo" };

export const LANGUAGES = {
  it: 'italiano', en: 'inglese', fr: 'francese', es: 'spagnolo', de: 'tedesco', ar: 'arabo',
  ro: 'rumeno', sq: 'albanese', uk: 'ucraino', ru: 'russo', zh: 'cinese', wo: 'wolof', ur: 'urdu',
  pt: 'portoghese', hi: 'hindi', bn: 'bengalese', pa: 'punjabi', tl: 'tagalog',
};

export const MATCH_STATUS = {
  proposed: 'Proposta',
  accepted: 'Accettata',
  declined: 'Rifiutata',
  active: 'In corso',
  completed: 'Conclusa',
  withdrawn: 'Ritirata',
};

export const PLAN_STATUS = {
  draft: 'Bozza',
  active: 'Attivo',
  open: 'Aperto',
  closed: 'Chiuso',
  suspended: 'Sospeso',
  completed: 'Concluso',
  archived: 'Archiviato',
};

export const VERIFICATION = {
  self_reported: 'Dichiarato',
  qr_verified: 'Verificato con QR',
  confirmed: 'Confermato',
};

export const FUND_SOURCES = {
  national: 'Fondi nazionali',
  regional: 'Fondi regionali',
  municipal: 'Fondi comunali',
  eu_pnrr: 'Fondi europei / PNRR',
  other: 'Altre fonti',
};

export const FNPS_LEVELS = {
  access_taking_charge: 'Accesso, valutazione e progettazione (presa in carico)',
  home_care: 'Permanenza a domicilio',
  early_childhood_community: 'Prima infanzia e servizi territoriali comunitari',
  residential: 'Servizi residenziali per le fragilità',
  inclusion_income: 'Inclusione sociale e sostegno al reddito',
};

export const CONTRIBUTION_UNITS = {
  hours: 'ore',
  room_hours: 'ore di spazio',
  items: 'beni',
  meals: 'pasti',
  trips: 'viaggi',
  people_reached: 'persone raggiunte',
};

export const ENTRY_KINDS = { entry: 'Registrazione', correction: 'Correzione', cancellation: 'Annullamento' };

export function label(table, code) {
  if (code === null || code === undefined || code === '') return '—';
  return table[code] ?? String(code).replaceAll('_', ' ');
}

// Which sectors a holder kind may belong to (mirrors registry/vocabularies.py).
export const SECTOR_OF_KIND = {
  association: ['third_sector'],
  social_cooperative: ['third_sector'],
  informal_network: ['informal'],
  individual_volunteer: ['informal'],
  parish: ['third_sector', 'informal'],
  school: ['public', 'third_sector'],
  company: ['business'],
  public_office: ['public'],
  other: ['public', 'third_sector', 'informal', 'business'],
};
export const KINDS_NEEDING_CONSENT = new Set(['individual_volunteer', 'informal_network']);

// --- numbers and agreement ---------------------------------------------------------------
// One way to write numbers everywhere: Italian ICU leaves four-digit numbers ungrouped
// («2491,8» beside «48.687 €»), so grouping is forced for every size.

const GROUPING = { useGrouping: 'always' };
const NUMBER = new Intl.NumberFormat('it-IT', { maximumFractionDigits: 1, ...GROUPING });
const EURO = new Intl.NumberFormat('it-IT', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0, ...GROUPING });
const EURO_CENTS = new Intl.NumberFormat('it-IT', { style: 'currency', currency: 'EUR', minimumFractionDigits: 2, ...GROUPING });
const PERCENT = new Intl.NumberFormat('it-IT', { style: 'percent', maximumFractionDigits: 0, ...GROUPING });

export function formatNumber(value, digits) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (digits === undefined) return NUMBER.format(value);
  return new Intl.NumberFormat('it-IT', { minimumFractionDigits: digits, maximumFractionDigits: digits, ...GROUPING }).format(value);
}
export const formatEuro = (value, { cents = false } = {}) => (value === null || value === undefined ? '—' : (cents ? EURO_CENTS : EURO).format(value));
export const formatPercent = (value) => (value === null || value === undefined ? '—' : PERCENT.format(value));

/** The singular or the plural form: plural(1, 'risorsa', 'risorse') → 'risorsa'. */
export function plural(n, one, many) {
  return Number(n) === 1 ? one : many;
}

/** The number with its noun: count(1, 'risorsa', 'risorse') → '1 risorsa', '1.200 risorse'. */
export function count(n, one, many) {
  return `${formatNumber(n)} ${plural(n, one, many)}`;
}

// Units as nouns: [singular, plural, grammatical gender] (adjectives agree with it).
const UNIT_NOUNS = {
  hours: ['ora', 'ore', 'f'],
  places: ['posto', 'posti', 'm'],
  items: ['pezzo', 'pezzi', 'm'],
  room_hours: ['ora di sala', 'ore di sala', 'f'],
  trips: ['viaggio', 'viaggi', 'm'],
  meals: ['pasto', 'pasti', 'm'],
  people: ['persona', 'persone', 'f'],
};
const CONTRIBUTION_NOUNS = {
  ...UNIT_NOUNS,
  room_hours: ['ora di spazio', 'ore di spazio', 'f'],
  items: ['bene', 'beni', 'm'],
  people_reached: ['persona raggiunta', 'persone raggiunte', 'f'],
};

function nounOf(unit, contribution) {
  return (contribution ? CONTRIBUTION_NOUNS : UNIT_NOUNS)[unit] || [String(unit), String(unit), 'm'];
}

/** '1 viaggio', '3 viaggi'; contribution units with { contribution: true } ('10 beni'). */
export function quantity(n, unit, { contribution = false } = {}) {
  const [one, many] = nounOf(unit, contribution);
  return count(n, one, many);
}

/** The unit's plural noun alone, for headings: 'beni', 'ore'. */
export function unitNoun(unit, { contribution = false, n = 2 } = {}) {
  const [one, many] = nounOf(unit, contribution);
  return plural(n, one, many);
}

/**
 * An adjective or participle in agreement with the unit: agree('items', 'verificat', n) →
 * 'verificati' (beni), agree('hours', 'verificat', 1) → 'verificata'.
 */
export function agree(unit, stem, n = 2, { contribution = false } = {}) {
  const gender = nounOf(unit, contribution)[2];
  const one = Number(n) === 1;
  if (gender === 'f') return `${stem}${one ? 'a' : 'e'}`;
  return `${stem}${one ? 'o' : 'i'}`;
}

/** 'Como, Lipomo e un altro' / 'Como, Lipomo e altri 3' (masculine nouns: comuni, enti). */
export function listWithOthers(items, max = 3, { other = 'un altro', others = 'altri' } = {}) {
  if (items.length <= max) {
    return items.length > 1 ? `${items.slice(0, -1).join(', ')} e ${items[items.length - 1]}` : items.join('');
  }
  const rest = items.length - max;
  return `${items.slice(0, max).join(', ')} e ${rest === 1 ? other : `${others} ${formatNumber(rest)}`}`;
}

// --- what changes for the person (issue 15): goals (GAS), reviews, closure --------------------

// Goal Attainment Scaling levels, −2 … +2 (Kiresuk & Sherman).
export const GAS_LEVELS = {
  '-2': 'molto meno del previsto',
  '-1': 'meno del previsto',
  0: 'risultato atteso',
  1: 'più del previsto',
  2: 'molto più del previsto',
};
export const PARTICIPANT_ROLES = {
  person: 'La persona',
  family: 'Familiari',
  social_worker: 'Assistente sociale',
  community_holder: 'Realtà della comunità',
  volunteer: 'Volontari',
  health_service: 'Servizi sanitari',
  school: 'Scuola',
  other_service: 'Altri servizi',
  udp: 'Ufficio di Piano',
};
export const CLOSURE_REASONS = {
  goals_reached: 'Obiettivi raggiunti',
  moved_away: 'Trasferimento in altro territorio',
  person_declined: 'Rinuncia della persona',
  taken_over: 'Presa in carico da altro servizio',
  no_longer_eligible: 'Venuti meno i requisiti',
  deceased: 'Decesso',
  other: 'Altro motivo',
};
export const OWN_RESOURCE_KINDS = { time: 'Tempo', skills: 'Competenze', relations: 'Relazioni', means: 'Mezzi' };
export const OWN_RESOURCE_SOURCES = { person: 'La persona', family: 'La famiglia' };
export const ACTIVATION_KINDS = {
  volunteer: 'È diventata volontaria/o',
  activity: 'Partecipa a un\'attività della comunità',
};
/** A GAS level with its sign, as on the printed scales: «+2», «0», «−1». */
export function gasLevel(level) {
  const n = Number(level);
  return n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0';
}

// --- co-programming and co-design (issue 16, art. 55 CTS; linee guida 72/2021) -------------

export const PROCEDURE_KINDS = { coprogramming: 'Co-programmazione', codesign: 'Co-progettazione' };
export const PROCEDURE_STATUS = { draft: 'In preparazione', open: 'Adesioni aperte', running: 'Sessioni in corso', closed: 'Concluso' };
export const APPLICATION_STATUS = { submitted: 'In attesa', admitted: 'Ammessa', rejected: 'Respinta', withdrawn: 'Ritirata' };
export const COPROG_PERSON_ROLES = {
  legal_representative: 'Legale rappresentante',
  delegate: 'Delegato/a',
  operator: 'Operatore/operatrice',
  volunteer: 'Volontario/a',
  other: 'Altro',
};
export const SESSION_KINDS = { introductory: 'Sessione introduttiva', thematic: 'Sessione tematica', concluding: 'Sessione conclusiva' };
// The four guiding questions of each working table (seed 002), in their order.
export const GUIDING_QUESTIONS = {
  problems: 'Problemi storici ed emergenti',
  existing_resources: 'Risorse già disponibili (servizi, esperienze, pratiche)',
  proposals: 'Proposte concrete',
  network_contribution: 'Contributo che la rete può mettere a disposizione',
};
export const DOCUMENT_STATUS = { draft: 'Bozza', approved: 'Approvato' };
