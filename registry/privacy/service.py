"""Data subjects' requests, retention settings and the records a DPO asks for.

Who may do what (checked after the 404 lookup, as everywhere):
- udp_admin: every request of its ambito, received in the app or on paper; retention; the
  register of processing; the access log's export; the execution log.
- social_worker: the erasure of a plan's free text on the person's request, for plans it owns.
- holder_manager: erasing one contact of its own holder, withdrawing its own holder's
  consent (it already edits those contacts; the UdP sees every such request in its list).
- every ambito user, volunteers first: the download of its own data (/me/export).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from registry.access import Principal, Role
from registry.ambiti.tables import Ambito
from registry.audit import service as audit
from registry.audit.schemas import AuditAction
from registry.audit.tables import AccessLog
from registry.common import Page, now
from registry.config import Settings
from registry.db import unit_of_work
from registry.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from registry.holders.tables import Holder
from registry.notifications import workflow
from registry.notifications.tables import WebhookEndpoint
from registry.offload import in_worker_process
from registry.plans.service import plan_row
from registry.privacy import erasure, export, retention
from registry.privacy.schemas import (
    Channel,
    DeclineIn,
    EventOut,
    ProcessingActivity,
    RegisterOut,
    RequestIn,
    RequestKind,
    RequestOut,
    RequestStatus,
    RetentionOut,
)
from registry.privacy.tables import PrivacyEvent, PrivacyRequest, RetentionSetting
from registry.users.tables import User

SUBJECT_KIND = {
    RequestKind.ACCESS: "user",
    RequestKind.ERASURE: "user",
    RequestKind.CONTACT_ERASURE: "holder_contact",
    RequestKind.PLAN_ERASURE: "plan",
    RequestKind.CONSENT_WITHDRAWAL: "holder",
}


def _decoded(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return dict(json.loads(value or "{}"))
    return dict(value or {})


def _request_out(row: dict[str, Any]) -> RequestOut:
    return RequestOut(
        id=row["id"],
        kind=RequestKind(row["kind"]),
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        channel=Channel(row["channel"]),
        reference=row["reference"],
        status=row["status"],
        requested_by_role=row["requested_by_role"],
        received_at=row["received_at"],
        executed_at=row["executed_at"],
        outcome=_decoded(row["outcome"]),
    )


# --- requests ------------------------------------------------------------------------------


async def _check_subject(actor: Principal, data: RequestIn) -> None:
    """The subject exists in the caller's ambito (else 404), then the caller may act on it."""
    kind = data.kind
    if kind in (RequestKind.ACCESS, RequestKind.ERASURE):
        found = (
            await User.select(User.id)
            .where((User.id == data.subject_id) & (User.ambito == actor.ambito_id))
            .first()
        )
        if found is None:
            raise NotFound("no such user")
        actor.require(Role.UDP_ADMIN)
    elif kind in (RequestKind.CONTACT_ERASURE, RequestKind.CONSENT_WITHDRAWAL):
        found = (
            await Holder.select(Holder.id)
            .where((Holder.id == data.subject_id) & (Holder.ambito == actor.ambito_id))
            .first()
        )
        if found is None:
            raise NotFound("no such holder")
        actor.require(Role.UDP_ADMIN, Role.HOLDER_MANAGER)
        if not actor.manages_holder(data.subject_id):
            raise PermissionDenied("a holder manager acts only for its own holder")
        if kind is RequestKind.CONTACT_ERASURE and not data.contact.strip():
            raise InvalidInput("name the contact to erase, as stored", field="contact")
    else:
        row = await plan_row(actor, data.subject_id)
        if actor.role is Role.SOCIAL_WORKER and row["owner"] != actor.user_id:
            raise PermissionDenied("only the plan's own social worker or the UdP records this")


async def create_request(actor: Principal, data: RequestIn) -> RequestOut:
    """Record a request and carry it out at once; the record keeps counts, never the data."""
    if actor.role is Role.VOLUNTEER:
        raise PermissionDenied(
            "a volunteer downloads its own data from /api/privacy/me/export and asks for "
            "erasure with POST /api/privacy/me/erasure"
        )
    await _check_subject(actor, data)
    moment = now()
    request = PrivacyRequest(
        ambito=actor.ambito_id,
        kind=data.kind.value,
        subject_kind=SUBJECT_KIND[data.kind],
        subject_id=data.subject_id,
        channel=data.channel.value,
        reference=data.reference,
        status=RequestStatus.EXECUTED.value,
        requested_by=actor.user_id,
        requested_by_role=actor.role.value,
        received_at=moment,
        executed_at=moment,
        outcome="{}",
    )
    async with unit_of_work():
        await _carry_out(actor, request, data.kind, data.subject_id, data.contact, moment)
    return await _request(actor.ambito_id, request.id)


async def _carry_out(
    actor: Principal,
    request: PrivacyRequest,
    kind: RequestKind,
    subject_id: uuid.UUID,
    contact: str,
    moment: datetime,
) -> None:
    """Do what the request asks, save it with its counts and log the execution (inside the
    caller's unit of work: all of it, or nothing)."""
    outcome: dict[str, Any]
    if kind is RequestKind.ACCESS:
        # Handed over by GET /requests/{id}/export, built fresh each time it is read.
        outcome = {"export": 1}
    elif kind is RequestKind.ERASURE:
        outcome = await erasure.erase_volunteer(actor.ambito_id, subject_id)
    elif kind is RequestKind.CONTACT_ERASURE:
        outcome = await erasure.erase_holder_contact(actor.ambito_id, subject_id, contact)
    elif kind is RequestKind.CONSENT_WITHDRAWAL:
        outcome = await erasure.withdraw_consent(actor.ambito_id, subject_id)
    else:
        outcome = await erasure.erase_plan_text(actor.ambito_id, subject_id)
        await audit.record(
            actor,
            AuditAction.PLAN_UPDATE,
            subject_id,
            detail="cancellazione su richiesta dell'interessato",
        )
    request.outcome = json.dumps(outcome)
    await request.save()
    await PrivacyEvent.insert(
        PrivacyEvent(
            ambito=actor.ambito_id,
            request=request.id,
            at=moment,
            action=kind.value,
            actor=actor.user_id,
            summary=json.dumps(outcome),
        )
    )


async def _request(ambito_id: uuid.UUID, request_id: uuid.UUID) -> RequestOut:
    row = (
        await PrivacyRequest.select()
        .where((PrivacyRequest.id == request_id) & (PrivacyRequest.ambito == ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such request")
    return _request_out(row)


async def ask_erasure(actor: Principal) -> RequestOut:
    """A volunteer asks, in the app, to be erased: the request waits for the UdP, which
    carries it out (erasure cannot be undone) or declines it with a reason."""
    actor.require(Role.VOLUNTEER)
    async with unit_of_work():
        waiting = await PrivacyRequest.exists().where(
            (PrivacyRequest.subject_id == actor.user_id)
            & (PrivacyRequest.kind == RequestKind.ERASURE.value)
            & (PrivacyRequest.status == RequestStatus.PENDING.value)
        )
        if waiting:
            raise Conflict("your erasure request is already waiting for the Ufficio di Piano")
        request = PrivacyRequest(
            ambito=actor.ambito_id,
            kind=RequestKind.ERASURE.value,
            subject_kind=SUBJECT_KIND[RequestKind.ERASURE],
            subject_id=actor.user_id,
            channel=Channel.APP.value,
            reference="",
            status=RequestStatus.PENDING.value,
            requested_by=actor.user_id,
            requested_by_role=actor.role.value,
            received_at=now(),
            executed_at=None,
            outcome="{}",
        )
        await request.save()
        await workflow.privacy_erasure_asked(actor, request_id=request.id)
    return await _request(actor.ambito_id, request.id)


async def my_requests(actor: Principal) -> list[RequestOut]:
    """The requests about the caller, newest first (a volunteer follows its own)."""
    rows = (
        await PrivacyRequest.select()
        .where(
            (PrivacyRequest.ambito == actor.ambito_id)
            & (PrivacyRequest.subject_id == actor.user_id)
        )
        .order_by(PrivacyRequest.received_at, ascending=False)
    )
    return [_request_out(r) for r in rows]


async def _pending(actor: Principal, request_id: uuid.UUID) -> PrivacyRequest:
    actor.require(Role.UDP_ADMIN)
    request = (
        await PrivacyRequest.objects()
        .where((PrivacyRequest.id == request_id) & (PrivacyRequest.ambito == actor.ambito_id))
        .first()
    )
    if request is None:
        raise NotFound("no such request")
    if request.status != RequestStatus.PENDING.value:
        raise Conflict(f"the request is {request.status}, not pending")
    return request


async def execute_request(actor: Principal, request_id: uuid.UUID) -> RequestOut:
    """The UdP carries out a request the subject made in the app."""
    async with unit_of_work():
        request = await _pending(actor, request_id)
        moment = now()
        request.status = RequestStatus.EXECUTED.value
        request.executed_at = moment
        await _carry_out(actor, request, RequestKind(request.kind), request.subject_id, "", moment)
    return await _request(actor.ambito_id, request_id)


async def decline_request(actor: Principal, request_id: uuid.UUID, data: DeclineIn) -> RequestOut:
    """The UdP declines a request, with the reason the subject is told; nothing is erased."""
    async with unit_of_work():
        request = await _pending(actor, request_id)
        moment = now()
        request.status = RequestStatus.DECLINED.value
        request.executed_at = moment
        request.reference = data.reference
        request.outcome = json.dumps({"declined": data.reason.value})
        await request.save()
        await PrivacyEvent.insert(
            PrivacyEvent(
                ambito=actor.ambito_id,
                request=request.id,
                at=moment,
                action="declined",
                actor=actor.user_id,
                summary=json.dumps({"reason": data.reason.value}),
            )
        )
        await workflow.privacy_request_decided(
            actor, request_id=request_id, subject_id=request.subject_id, reason=data.reason.value
        )
    return await _request(actor.ambito_id, request_id)


async def list_requests(
    actor: Principal, *, kind: RequestKind | None = None, limit: int = 50, offset: int = 0
) -> Page[RequestOut]:
    actor.require(Role.UDP_ADMIN)
    where = PrivacyRequest.ambito == actor.ambito_id
    if kind:
        where &= PrivacyRequest.kind == kind.value
    rows = (
        await PrivacyRequest.select()
        .where(where)
        .order_by(PrivacyRequest.received_at, ascending=False)
        .order_by(PrivacyRequest.id)
        .limit(limit)
        .offset(offset)
    )
    total = await PrivacyRequest.count().where(where)
    return Page(items=[_request_out(r) for r in rows], total=total, limit=limit, offset=offset)


async def _export(actor: Principal, user_id: uuid.UUID, request_id: uuid.UUID | None) -> dict:
    moment = now()
    data = await export.collect(actor.ambito_id, user_id, moment)
    await PrivacyEvent.insert(
        PrivacyEvent(
            ambito=actor.ambito_id,
            request=request_id,
            at=moment,
            action="access_export",
            actor=actor.user_id,
            summary=json.dumps({k: len(v) for k, v in data.items() if isinstance(v, list)}),
        )
    )
    return data


async def my_export(actor: Principal) -> dict[str, Any]:
    return await _export(actor, actor.user_id, None)


async def request_export(actor: Principal, request_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await PrivacyRequest.select()
        .where((PrivacyRequest.id == request_id) & (PrivacyRequest.ambito == actor.ambito_id))
        .first()
    )
    if row is None:
        raise NotFound("no such request")
    actor.require(Role.UDP_ADMIN)
    if row["kind"] != RequestKind.ACCESS.value:
        raise InvalidInput("only an access request has an export", field="request_id")
    return await _export(actor, row["subject_id"], request_id)


async def summary_of(data: dict[str, Any]) -> str:
    return await in_worker_process(export.summary_text, data)


# --- retention -----------------------------------------------------------------------------


async def retention_settings(actor: Principal) -> list[RetentionOut]:
    actor.require(Role.UDP_ADMIN)
    days = await retention.periods(actor.ambito_id)
    return [
        RetentionOut(
            kind=k.code, label=k.label, action=k.action, days=days[k.code], default_days=k.days
        )
        for k in retention.KINDS.values()
    ]


async def set_retention(actor: Principal, kind: str, days: int) -> list[RetentionOut]:
    actor.require(Role.UDP_ADMIN)
    if kind not in retention.KINDS:
        known = ", ".join(retention.KINDS)
        raise InvalidInput(f"unknown kind of record; one of: {known}", field="kind")
    async with unit_of_work():
        await RetentionSetting.delete().where(
            (RetentionSetting.ambito == actor.ambito_id) & (RetentionSetting.kind == kind)
        )
        await RetentionSetting.insert(
            RetentionSetting(
                ambito=actor.ambito_id,
                kind=kind,
                days=days,
                updated_by=actor.user_id,
                updated_at=now(),
            )
        )
    return await retention_settings(actor)


async def run_retention(actor: Principal, moment: datetime | None = None) -> dict[str, Any]:
    actor.require(Role.UDP_ADMIN)
    return await retention.apply_retention(
        moment or now(), [actor.ambito_id], actor_id=actor.user_id
    )


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
