// A short help per screen, behind a «?» next to the title: what the screen is for and what
// to do first. Keyed by the router's path patterns (web/app.js).

export const HELP = {
  '/': 'La home riassume ciò che ti riguarda: cosa confermare, le proposte e le notifiche. Ogni riquadro porta alla pagina dove si agisce.',
  '/cruscotto': 'Gli indicatori dell\'ambito per periodo: ore verificate, bisogni abbinati, rete tra i soggetti. I valori troppo piccoli sono nascosti (n.d.) per riservatezza; ogni grafico ha la sua tabella.',
  '/tariffe': 'Le tariffe orarie con cui il registro valorizza le ore di volontariato, e le interazioni tra enti. Cambiarle aggiorna i calcoli del cruscotto.',
  '/ente': 'Il profilo della tua organizzazione: come compare nel registro, i contatti e i comuni in cui opera. Tenerlo aggiornato aiuta gli assistenti sociali a trovarvi.',
  '/piani': 'I piani personalizzati, ciascuno con un codice al posto del nome della persona. Aprine uno per aggiungere i bisogni e chiedere i suggerimenti.',
  '/piani/nuovo': 'Crea un piano con un codice pseudonimo (mai nome o codice fiscale). Dopo aggiungerai i bisogni, uno per volta.',
  '/piani/:id': 'Il piano con i suoi bisogni. Per ciascun bisogno il registro suggerisce le risorse adatte, spiegando perché; tu scegli quale proporre all\'ente.',
  '/risorse': 'Le risorse che la comunità offre: tempo, spazi, beni, servizi. Filtra per categoria o comune; il cartellino colorato dice quando sono state confermate l\'ultima volta.',
  '/risorse/nuova': 'Descrivi una risorsa: cosa offrite, per chi e dove, fino a quando. Gli orari si aggiungono dopo, nel calendario della risorsa.',
  '/risorse/:id': 'I dati della risorsa e il suo calendario settimanale. Se è ancora tutto vero, confermalo con un clic: le risorse non confermate da tempo non vengono più proposte.',
  '/risorse/:id/modifica': 'Modifica i dati della risorsa. Gli orari si cambiano dal calendario nella pagina della risorsa.',
  '/mappa': 'Ogni comune dell\'ambito con un cerchio grande quanto il numero di risorse che lo servono. Un clic su un comune apre l\'elenco delle sue risorse; la tabella sotto riporta gli stessi numeri.',
  '/proposte': 'Gli abbinamenti tra un bisogno e una risorsa, per stato. L\'ente accetta o rifiuta la proposta; l\'assistente sociale conferma l\'avvio e, alla fine, la conclusione.',
  '/contributi': 'Le ore e gli altri contributi registrati, con la loro verifica. Le ore con il codice QR sono già verificate; quelle dichiarate a mano vanno confermate dall\'ente.',
  '/qr': 'Genera il codice QR di un\'attività o di un abbinamento e appendilo sul posto. I volontari lo inquadrano, premono «Entrata» e «Uscita», e le ore risultano verificate.',
  '/ore': 'Le tue ore di volontariato: quelle registrate con il codice QR sono già verificate. Se hai dimenticato di registrarti, dichiarale: l\'ente le confermerà.',
  '/enti': 'Le associazioni, cooperative, parrocchie, reti e volontari del registro. Apri un ente per vederne profilo e risorse.',
  '/enti/nuovo': 'Registra un ente della comunità. Per un volontario singolo o una rete informale serve il consenso al trattamento dei dati.',
  '/enti/:id': 'Il profilo di un ente e le risorse che offre.',
  '/interventi': 'I servizi pagati con fondi pubblici, accanto a ciò che dà la comunità. Puoi inserirli uno per uno o importarli dal modello di foglio di calcolo: prima «Controlla il file», poi «Importa».',
  '/utenti': 'Gli account del registro e i loro ruoli. Da qui crei un account, lo disattivi o mandi un link per reimpostare la password.',
  '/password': 'Cambia la tua password: almeno 12 caratteri, meglio una frase facile da ricordare.',
  '/notifiche': 'I promemoria e gli avvisi del registro: risorse da confermare, proposte, risposte. Puoi scegliere quali ricevere anche per e-mail.',
};

/** The help text of the screen at this path (the first pattern that matches it). */
export function helpFor(path) {
  if (HELP[path]) return HELP[path];
  for (const [pattern, text] of Object.entries(HELP)) {
    if (!pattern.includes(':')) continue;
    const regex = new RegExp(`^${pattern.replace(/:\w+/g, '[^/]+')}$`);
    if (regex.test(path)) return text;
  }
  return null;
}
