"""The records a Data Protection Officer asks for: the execution log of requests and
retention runs, the register of processing activities (art. 30) and the access log's export.
All of them for the UdP of the ambito only."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from registry.access import Principal, Role
from registry.ambiti.tables import Ambito
from registry.audit.schemas import AuditAction
from registry.audit.tables import AccessLog
from registry.common import Page, now
from registry.config import Settings
from registry.errors import InvalidInput
from registry.notifications.tables import WebhookEndpoint
from registry.privacy import export, retention
from registry.privacy._common import _decoded
from registry.privacy.schemas import EventOut, ProcessingActivity, RegisterOut
from registry.privacy.tables import PrivacyEvent


async def list_events(actor: Principal, *, limit: int = 50, offset: int = 0) -> Page[EventOut]:
    actor.require(Role.UDP_ADMIN)
    where = PrivacyEvent.ambito == actor.ambito_id
    rows = (
        await PrivacyEvent.select()
        .where(where)
        .order_by(PrivacyEvent.at, ascending=False)
        .order_by(PrivacyEvent.id)
        .limit(limit)
        .offset(offset)
    )
    total = await PrivacyEvent.count().where(where)
    items = [
        EventOut(
            id=r["id"],
            at=r["at"],
            action=r["action"],
            request_id=r["request"],
            by_job=r["actor"] is None,
            summary=_decoded(r["summary"]),
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


# --- records for the Data Protection Officer -----------------------------------------------


def _days(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return "1 anno" if years == 1 else f"{years} anni"
    return "1 giorno" if days == 1 else f"{days} giorni"


async def processing_register(actor: Principal, settings: Settings) -> RegisterOut:
    """The register of processing activities (art. 30) of this ambito's registry, from its
    retention settings, its webhook endpoints and the mail server configured."""
    actor.require(Role.UDP_ADMIN)
    ambito = (
        await Ambito.select(Ambito.code, Ambito.name).where(Ambito.id == actor.ambito_id).first()
    )
    assert ambito is not None
    days = await retention.periods(actor.ambito_id)
    hooks = sorted(
        {
            urlsplit(r["url"]).hostname or r["url"]
            for r in await WebhookEndpoint.select(WebhookEndpoint.url).where(
                (WebhookEndpoint.ambito == actor.ambito_id) & (WebhookEndpoint.active == True)  # noqa: E712
            )
        }
    )
    mail = (
        f"il server di posta {settings.smtp_host} (avvisi per e-mail)"
        if settings.smtp_host
        else "nessun server di posta configurato"
    )
    webhooks = (
        "sistemi dell'UdP che ricevono gli eventi (webhook): " + ", ".join(hooks)
        if hooks
        else "nessun webhook configurato"
    )
    staff = "UdP e assistenti sociali dell'ambito, secondo il ruolo"
    activities = [
        ProcessingActivity(
            name="Registro dei titolari di risorse e dei loro contatti",
            purpose="Conoscere e mettere in rete le risorse non economiche della comunità "
            "(L. 328/2000, welfare generativo, co-programmazione art. 55 CTS)",
            legal_basis="Art. 6.1.e GDPR (compito di interesse pubblico) per gli enti; art. "
            "6.1.a (consenso) per reti informali e volontari singoli",
            data_subjects="Referenti degli enti, membri di reti informali, volontari singoli",
            data_categories="Nome, recapiti (e-mail, telefono), indirizzo, codice fiscale",
            retention="Finché il titolare è nel registro; cancellazione su richiesta; il "
            "consenso revocato toglie subito la scheda dall'elenco pubblico",
            recipients=f"{staff}; elenco pubblico (HSDS, mappa) solo per chi ha scelto la "
            "pubblicazione, mai persone fisiche; " + webhooks,
        ),
        ProcessingActivity(
            name="Progetti personalizzati (pseudonimizzati)",
            purpose="Costruire e seguire i progetti personalizzati, abbinare risorse ai bisogni",
            legal_basis="Art. 6.1.e e art. 9.2.g/h GDPR (assistenza sociale), "
            "D.Lgs. 196/2003 art. 2-sexies",
            data_subjects="Persone seguite dai servizi sociali (indicate da un codice caso)",
            data_categories="Comune, area di utenza, bisogni, obiettivi, note e verifiche: dati "
            "relativi alla salute e alla condizione sociale (art. 9)",
            retention=f"Note, testo degli obiettivi e delle verifiche, codice caso: "
            f"{_days(days['closed_plans'])} dalla chiusura del progetto, poi cancellati; "
            "restano i dati strutturati per le statistiche",
            recipients="L'assistente sociale titolare, quelli con cui l'UdP lo condivide, "
            "l'UdP; ai titolari delle risorse solo il bisogno, mai codice caso o note",
        ),
        ProcessingActivity(
            name="Registro dei contributi e presenze dei volontari",
            purpose="Misurare il valore del contributo della comunità (rendicontazione, "
            "Piano di Zona)",
            legal_basis="Art. 6.1.e GDPR",
            data_subjects="Volontari",
            data_categories="Ore, date, ente, presenze registrate con QR (orari)",
            retention=f"Presenze: {_days(days['checkins'])}; le voci del registro restano "
            "come contributi anonimi dopo la cancellazione del volontario",
            recipients=f"{staff}; il titolare della risorsa per le proprie voci; le cifre "
            "pubblicate solo aggregate, con soppressione delle celle piccole",
        ),
        ProcessingActivity(
            name="Notifiche e messaggi",
            purpose="Avvisare gli utenti dei passi che li riguardano",
            legal_basis="Art. 6.1.e GDPR",
            data_subjects="Utenti del registro",
            data_categories="Indirizzo e-mail, contenuto delle notifiche",
            retention=f"Notifiche: {_days(days['notifications'])}; messaggi consegnati o "
            f"scartati: {_days(days['outbox'])}",
            recipients=f"L'utente stesso; {mail}; {webhooks}",
        ),
        ProcessingActivity(
            name="Registro degli accessi ai progetti",
            purpose="Sicurezza e responsabilità: chi ha letto o modificato quale progetto",
            legal_basis="Art. 6.1.c e art. 32 GDPR",
            data_subjects="Utenti che accedono ai progetti",
            data_categories="Nome utente, ruolo, data e ora, progetto (pseudonimo), azione",
            retention=_days(days["access_log"]),
            recipients="UdP; il Responsabile della protezione dei dati su richiesta",
        ),
        ProcessingActivity(
            name="Account e sicurezza degli accessi",
            purpose="Autenticazione, blocco dei tentativi ripetuti",
            legal_basis="Art. 6.1.e e art. 32 GDPR",
            data_subjects="Utenti del registro",
            data_categories="Nome utente, password cifrata (hash), tentativi falliti con "
            "indirizzo IP",
            retention=f"Tentativi falliti: {_days(days['login_failures'])}; link e codici "
            f"scaduti: {_days(days['expired_tokens'])} dopo la scadenza",
            recipients="UdP (tentativi falliti del proprio ambito)",
        ),
        ProcessingActivity(
            name="Richieste degli interessati",
            purpose="Dare seguito agli art. 15-22 GDPR e dimostrarlo",
            legal_basis="Art. 6.1.c GDPR",
            data_subjects="Chi ha esercitato un diritto",
            data_categories="Tipo di richiesta, date, esito in numeri (mai i dati cancellati)",
            retention="Finché l'ambito usa il registro",
            recipients="UdP; il Responsabile della protezione dei dati",
        ),
    ]
    return RegisterOut(
        controller=ambito["name"],
        ambito_code=ambito["code"],
        generated_at=now(),
        activities=activities,
    )


def register_csv(register: RegisterOut) -> bytes:
    """The register as a spreadsheet an Italian office opens: ';', BOM, Italian headers."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "Trattamento",
            "Finalità",
            "Base giuridica",
            "Interessati",
            "Categorie di dati",
            "Conservazione",
            "Destinatari",
            "Trasferimenti",
            "Misure",
        ]
    )
    for a in register.activities:
        writer.writerow(
            [
                a.name,
                a.purpose,
                a.legal_basis,
                a.data_subjects,
                a.data_categories,
                a.retention,
                a.recipients,
                a.transfers,
                a.measures,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


ACTION_NAMES = {
    "plan.list": "elenco progetti",
    "plan.read": "lettura progetto",
    "plan.create": "creazione progetto",
    "plan.update": "modifica progetto",
    "plan.share": "condivisione progetto",
    "plan.denied": "accesso negato",
    "needs.read": "lettura bisogni",
    "need.read": "lettura bisogno",
    "need.create": "creazione bisogno",
    "need.update": "modifica bisogno",
}


async def access_log_rows(
    actor: Principal,
    zone: ZoneInfo,
    *,
    start: date | None = None,
    end: date | None = None,
    user_id: uuid.UUID | None = None,
    plan_id: uuid.UUID | None = None,
    action: AuditAction | None = None,
) -> list[list[str]]:
    actor.require(Role.UDP_ADMIN)
    if start and end and end < start:
        raise InvalidInput("'to' is before 'from'", field="to")
    where = AccessLog.ambito == actor.ambito_id
    if start:
        where &= AccessLog.at >= datetime.combine(start, time(), zone)
    if end:
        where &= AccessLog.at < datetime.combine(end + timedelta(days=1), time(), zone)
    if user_id:
        where &= AccessLog.user == user_id
    if plan_id:
        where &= AccessLog.plan_id == plan_id
    if action:
        where &= AccessLog.action == action.value
    rows = await AccessLog.select().where(where).order_by(AccessLog.at).order_by(AccessLog.id)
    return [
        [
            r["at"].astimezone(zone).strftime("%d/%m/%Y %H:%M:%S"),
            r["username"],
            export.ROLE_NAMES.get(r["role"], r["role"]),
            ACTION_NAMES.get(r["action"], r["action"]),
            str(r["plan_id"] or ""),
            str(r["need_id"] or ""),
            r["detail"],
        ]
        for r in rows
    ]


def access_log_csv(rows: Sequence[Sequence[str]]) -> bytes:
    """Pure: run in a worker process (years of log are many rows)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Data e ora", "Utente", "Ruolo", "Azione", "Progetto", "Bisogno", "Dettaglio"])
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()
