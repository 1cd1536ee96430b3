"""The daily workflow's notifications: each step that waits on someone reaches that someone.

One helper, `announce`, builds the event and emits it; the functions below only say who
hears about what, in Italian. Every one is called by its domain inside the unit of work
that makes the change, so a change that rolls back notifies nobody.

Pseudonymity: what reaches the holder side (managers of the resource's holder) names the
need's category and schedule, never the plan, its case code or its notes, and never the
reason a social worker gave for withdrawing or completing a match.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from registry.access import Principal, Role
from registry.notifications.events import EventType
from registry.notifications.service import Event, emit, resolve, users_with_role
from registry.users.tables import User

WEEKDAYS_IT = {
    "MO": "lunedì",
    "TU": "martedì",
    "WE": "mercoledì",
    "TH": "giovedì",
    "FR": "venerdì",
    "SA": "sabato",
    "SU": "domenica",
}
UNITS_IT = {
    "hours": "ore",
    "room_hours": "ore di sala",
    "items": "oggetti",
    "meals": "pasti",
    "trips": "viaggi",
    "people_reached": "persone raggiunte",
}


def match_subject(match_id: uuid.UUID) -> str:
    return f"match:{match_id}"


def contribution_subject(contribution_id: uuid.UUID) -> str:
    return f"contribution:{contribution_id}"


async def announce(
    actor: Principal,
    kind: EventType,
    *,
    users: Iterable[uuid.UUID],
    title: str,
    body: str,
    link: str = "",
    subject: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Emit one workflow event. Whoever took the step is not told about it; the ambito's
    webhooks hear about every step, even one nobody is left to be told of."""
    recipients = [user for user in dict.fromkeys(users) if user != actor.user_id]
    await emit(
        Event(
            ambito_id=actor.ambito_id,
            type=kind,
            title=title,
            body=body,
            data=data or {},
            link=link,
            users=recipients,
            subject=subject,
        )
    )


# --- recipients ----------------------------------------------------------------------------


async def holder_managers(ambito_id: uuid.UUID, holder_id: uuid.UUID) -> list[uuid.UUID]:
    return await users_with_role(ambito_id, Role.HOLDER_MANAGER, holder_id)


async def plan_social_workers(plan_id: uuid.UUID) -> list[uuid.UUID]:
    """The plan's owner and the social workers it is shared with, if still active."""
    from registry.plans.tables import Plan

    plan = await Plan.select(Plan.owner, Plan.shared_with).where(Plan.id == plan_id).first()
    if plan is None:
        return []
    wanted = [plan["owner"], *(uuid.UUID(u) for u in plan["shared_with"] or [])]
    rows = await User.select(User.id).where(
        User.id.is_in(wanted)
        & (User.active == True)  # noqa: E712
        & User.role.is_in([Role.SOCIAL_WORKER.value, Role.UDP_ADMIN.value])
    )
    found = {row["id"] for row in rows}
    return [user for user in wanted if user in found]


# --- wording -------------------------------------------------------------------------------


def schedule_text(schedule: Sequence[dict[str, Any]] | str | None) -> str:
    if isinstance(schedule, str):
        schedule = json.loads(schedule or "[]")
    return ", ".join(
        f"{WEEKDAYS_IT.get(w['weekday'], w['weekday'])} {w['start']}–{w['end']}"
        for w in schedule or []
    )


async def _category_name(code: str) -> str:
    from registry.taxonomy.tables import TaxonomyTerm

    row = await TaxonomyTerm.select(TaxonomyTerm.name).where(TaxonomyTerm.code == code).first()
    return row["name"] if row else code


async def _match_facts(match_id: uuid.UUID) -> dict[str, Any]:
    """What any side may read about a match: resource, holder, the need's category and
    schedule; plus the plan's id and case code, which only the plan side is told."""
    from registry.matches.tables import Match

    row = (
        await Match.select(
            Match.id,
            Match.plan,
            Match.holder,
            Match.resource,
            Match.resource.title.as_alias("resource_title"),
            Match.holder.name.as_alias("holder_name"),
            Match.need.category_code.as_alias("category_code"),
            Match.need.schedule.as_alias("schedule"),
            Match.plan.case_code.as_alias("case_code"),
        )
        .where(Match.id == match_id)
        .first()
    )
    assert row is not None, "the match was written in this same transaction"
    row["category"] = await _category_name(row["category_code"])
    row["when"] = schedule_text(row["schedule"])
    return row


def _need_phrase(facts: dict[str, Any]) -> str:
    when = f" ({facts['when']})" if facts["when"] else ""
    return f"un bisogno di «{facts['category']}»{when}"


def _holder_side_data(facts: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "match_id": str(facts["id"]),
        "status": status,
        "resource_id": str(facts["resource"]),
        "holder_id": str(facts["holder"]),
        "category_code": facts["category_code"],
        "schedule_text": facts["when"],
    }


# --- matches -------------------------------------------------------------------------------


async def match_proposed(actor: Principal, match_id: uuid.UUID) -> None:
    facts = await _match_facts(match_id)
    await announce(
        actor,
        EventType.MATCH_PROPOSED,
        users=await holder_managers(actor.ambito_id, facts["holder"]),
        title=f"Nuova proposta: «{facts['resource_title']}»",
        body=(
            f"Un assistente sociale propone «{facts['resource_title']}» per "
            f"{_need_phrase(facts)}. Apri «Proposte» per accettarla o rifiutarla "
            "indicando il motivo."
        ),
        link="#/proposte",
        subject=match_subject(match_id),
        data=_holder_side_data(facts, "proposed"),
    )


_HOLDER_SIDE_NEWS = {
    "confirm": (EventType.MATCH_CONFIRMED, "Abbinamento avviato", "è stato avviato"),
    "complete": (EventType.MATCH_COMPLETED, "Abbinamento concluso", "si è concluso"),
    "withdraw": (EventType.MATCH_WITHDRAWN, "Proposta ritirata", "è stato ritirato"),
}
# The steps an action makes unnecessary: their notifications stop counting as waiting.
_RESOLVES = {
    "accept": (EventType.MATCH_PROPOSED,),
    "decline": (EventType.MATCH_PROPOSED, EventType.MATCH_ACCEPTED),
    "confirm": (EventType.MATCH_ACCEPTED,),
    "complete": (),
    "withdraw": (EventType.MATCH_PROPOSED, EventType.MATCH_ACCEPTED),
}


async def match_moved(actor: Principal, match_id: uuid.UUID, action: str, reason: str) -> None:
    """accept / decline reach the plan's social workers; confirm, complete, withdraw reach
    the holder's managers (without the plan side's reason)."""
    facts = await _match_facts(match_id)
    subject = match_subject(match_id)
    await resolve(actor.ambito_id, subject, _RESOLVES[action])
    if action in ("accept", "decline"):
        accepted = action == "accept"
        verb = "accettato" if accepted else "rifiutato"
        body = (
            f"{facts['holder_name']} ha {verb} «{facts['resource_title']}» per "
            f"{_need_phrase(facts)} del piano {facts['case_code']}."
        )
        body += " Apri il piano per avviare l'abbinamento." if accepted else f" Motivo: {reason}"
        await announce(
            actor,
            EventType.MATCH_ACCEPTED if accepted else EventType.MATCH_DECLINED,
            users=await plan_social_workers(facts["plan"]),
            title=f"Proposta {'accettata' if accepted else 'rifiutata'}: "
            f"«{facts['resource_title']}» ({facts['holder_name']})",
            body=body,
            link=f"#/piani/{facts['plan']}",
            subject=subject,
            data={
                **_holder_side_data(facts, "accepted" if accepted else "declined"),
                "plan_id": str(facts["plan"]),
                "reason": "" if accepted else reason,
            },
        )
        return
    kind, title, happened = _HOLDER_SIDE_NEWS[action]
    await announce(
        actor,
        kind,
        users=await holder_managers(actor.ambito_id, facts["holder"]),
        title=f"{title}: «{facts['resource_title']}»",
        body=(
            f"L'abbinamento di «{facts['resource_title']}» per {_need_phrase(facts)} {happened}."
        ),
        link="#/proposte",
        subject=subject,
        data=_holder_side_data(facts, kind.value.removeprefix("match.")),
    )


# --- contributions -------------------------------------------------------------------------


def _amount(row: dict[str, Any]) -> str:
    from registry.contributions.quantities import shown_quantity

    quantity = shown_quantity(row["unit"], row["quantity"])
    number = f"{quantity:g}".replace(".", ",")
    return f"{number} {UNITS_IT.get(row['unit'], row['unit'])}"


async def contribution_recorded(actor: Principal, row: dict[str, Any]) -> None:
    """A self-reported entry (or a correction) reaches whoever can confirm it: the social
    workers of its plan, or the managers of its holder. The entry it replaces, if any, no
    longer waits for a confirmation."""
    if row.get("corrects") is not None:
        await resolve(
            actor.ambito_id,
            contribution_subject(row["corrects"]),
            (EventType.CONTRIBUTION_REPORTED,),
        )
    if row["kind"] == "cancellation" or row["verification"] != "self_reported":
        return
    on_plan = row["plan_id"] is not None
    users = (
        await plan_social_workers(row["plan_id"])
        if on_plan
        else await holder_managers(actor.ambito_id, row["holder"])
    )
    when = row["occurred_on"].strftime("%d/%m/%Y")
    await announce(
        actor,
        EventType.CONTRIBUTION_REPORTED,
        users=users,
        title=f"Contributo da confermare: {_amount(row)} del {when}",
        body=(
            f"{actor.username} ha registrato {_amount(row)} il {when}. "
            "Apri «Contributi» per confermarlo."
        ),
        link="#/contributi",
        subject=contribution_subject(row["id"]),
        data={
            "contribution_id": str(row["id"]),
            "holder_id": str(row["holder"]),
            "unit": row["unit"],
            "occurred_on": row["occurred_on"].isoformat(),
        },
    )


async def contribution_confirmed(actor: Principal, row: dict[str, Any]) -> None:
    subject = contribution_subject(row["id"])
    await resolve(actor.ambito_id, subject, (EventType.CONTRIBUTION_REPORTED,))
    when = row["occurred_on"].strftime("%d/%m/%Y")
    await announce(
        actor,
        EventType.CONTRIBUTION_CONFIRMED,
        users=[row["volunteer"]] if row["volunteer"] else [],
        title=f"Contributo confermato: {_amount(row)} del {when}",
        body=f"{actor.username} ha confermato il tuo contributo di {_amount(row)} del {when}.",
        link="#/ore",
        subject=subject,
        data={
            "contribution_id": str(row["id"]),
            "holder_id": str(row["holder"]),
            "unit": row["unit"],
            "occurred_on": row["occurred_on"].isoformat(),
        },
    )


# --- plans and QR codes --------------------------------------------------------------------


async def plan_shared(
    actor: Principal, plan: dict[str, Any], newly_shared: Sequence[uuid.UUID]
) -> None:
    await announce(
        actor,
        EventType.PLAN_SHARED,
        users=newly_shared,
        title=f"Piano condiviso con te: {plan['case_code']}",
        body=(
            f"Ora vedi anche tu il piano {plan['case_code']}: i suoi bisogni, le proposte e "
            "gli abbinamenti."
        ),
        link=f"#/piani/{plan['id']}",
        subject=f"plan:{plan['id']}",
        data={"plan_id": str(plan["id"])},
    )


async def code_revoked(actor: Principal, code: dict[str, Any]) -> None:
    from registry.checkin.qr import ROME

    until = code["valid_until"].astimezone(ROME).strftime("%d/%m/%Y")
    await announce(
        actor,
        EventType.CHECKIN_CODE_REVOKED,
        users=await holder_managers(actor.ambito_id, code["holder"]),
        title=f"Codice QR revocato: «{code['title']}»",
        body=(
            f"Il codice QR per «{code['title']}» (valido fino al {until}) è stato revocato: "
            "chi lo usa per registrare la presenza viene rifiutato. Se serve, stampane uno "
            "nuovo da «Codici QR»."
        ),
        link="#/qr",
        subject=f"checkin_code:{code['id']}",
        data={"code_id": str(code["id"]), "holder_id": str(code["holder"])},
    )


# --- plan reviews (issue 15) ---------------------------------------------------------------


async def review_overdue(
    ambito_id: uuid.UUID, plan_id: uuid.UUID, case_code: str, due: Any, subject: str
) -> None:
    """The scheduler tells the plan's social workers its review is past due (no actor: the
    job, so `emit` directly). Only the pseudonymous case code, never goals or notes."""
    when = due.strftime("%d/%m/%Y")
    await emit(
        Event(
            ambito_id=ambito_id,
            type=EventType.REVIEW_OVERDUE,
            title=f"Verifica in ritardo: piano {case_code}",
            body=(
                f"La verifica del piano {case_code} era prevista entro il {when} e non è "
                "ancora stata registrata. Registrala, o fissa una nuova data."
            ),
            link=f"#/piani/{plan_id}",
            users=await plan_social_workers(plan_id),
            subject=subject,
            data={"plan_id": str(plan_id), "due_on": due.isoformat()},
        )
    )


# --- patti di collaborazione (issue 16) ----------------------------------------------------


async def patto_report_due(
    ambito_id: uuid.UUID, patto_id: uuid.UUID, title: str, period_end: Any
) -> None:
    """The scheduler tells the UdP a patto's reporting period ended without a report (no
    actor: the job, so `emit` directly)."""
    when = period_end.strftime("%d/%m/%Y")
    await emit(
        Event(
            ambito_id=ambito_id,
            type=EventType.PATTO_REPORT_DUE,
            title=f"Relazione da presentare: patto «{title}»",
            body=(
                f"Il periodo di rendicontazione del patto «{title}» si è chiuso il {when} e "
                "la relazione non è ancora stata scritta: aggiungila dalla pagina del patto, "
                "con i dati del registro dei contributi per il periodo."
            ),
            link=f"#/impegni/patti/{patto_id}",
            users=await users_with_role(ambito_id, Role.UDP_ADMIN),
            subject=f"patto:{patto_id}",
            data={"patto_id": str(patto_id), "period_end": period_end.isoformat()},
        )
    )


# --- co-programming procedures (issue 16) --------------------------------------------------


async def coprogramming_application_decided(
    actor: Principal,
    *,
    procedure_id: uuid.UUID,
    procedure_title: str,
    holder_id: uuid.UUID,
    admitted: bool,
) -> None:
    """The organisation's managers hear whether the UdP admitted it to the procedure."""
    outcome = "accolta" if admitted else "non accolta"
    next_step = (
        "Ora vedi il calendario delle sessioni e, nelle sessioni a cui partecipi, scrivi ai "
        "tavoli le risposte alle quattro domande."
        if admitted
        else "Per chiarimenti rivolgiti all'Ufficio di Piano."
    )
    await announce(
        actor,
        EventType.COPROG_APPLICATION_DECIDED,
        users=await holder_managers(actor.ambito_id, holder_id),
        title=f"Domanda {outcome}: «{procedure_title}»",
        body=f"La domanda di partecipazione a «{procedure_title}» è stata {outcome}. {next_step}",
        link=f"#/coprogrammazione/{procedure_id}",
        subject=f"coprogramming:{procedure_id}",
        data={"procedure_id": str(procedure_id), "admitted": admitted},
    )


async def coprogramming_minutes_approved(
    actor: Principal,
    *,
    procedure_id: uuid.UUID,
    session_id: uuid.UUID,
    session_label: str,
    version: int,
    holder_ids: Sequence[uuid.UUID],
) -> None:
    """The managers of the organisations present at the session: its minutes are final."""
    users = [
        u
        for holder in dict.fromkeys(holder_ids)
        for u in await holder_managers(actor.ambito_id, holder)
    ]
    await announce(
        actor,
        EventType.COPROG_MINUTES_APPROVED,
        users=users,
        title=f"Verbale approvato: {session_label}",
        body=(
            f"Il verbale di «{session_label}» (versione {version}) è stato approvato "
            "dall'Ufficio di Piano ed è pubblicato nella pagina della procedura."
        ),
        link=f"#/coprogrammazione/{procedure_id}/sessioni/{session_id}",
        subject=f"coprogramming:{procedure_id}",
        data={"procedure_id": str(procedure_id), "session_id": str(session_id), "version": version},
    )


async def privacy_erasure_asked(actor: Principal, *, request_id: uuid.UUID) -> None:
    """The UdP: a volunteer asked in the app to be erased. The notice names nobody."""
    await announce(
        actor,
        EventType.PRIVACY_REQUEST_RECEIVED,
        users=await users_with_role(actor.ambito_id, Role.UDP_ADMIN),
        title="Richiesta di cancellazione di un volontario",
        body=(
            "Un volontario ha chiesto dall'app la cancellazione del proprio account e dei "
            "propri dati (art. 17 GDPR). Eseguila, o respingila con il motivo, in «Dati "
            "personali»: la risposta è dovuta entro un mese (art. 12)."
        ),
        link="#/privacy?tab=richieste",
        subject=f"privacy:{request_id}",
        data={"request_id": str(request_id)},
    )


DECLINE_REASONS = {
    "identity_not_verified": "non è stato possibile verificare l'identità di chi l'ha chiesta",
    "legal_obligation": "i dati devono essere conservati per un obbligo di legge (art. 17, par. 3)",
    "withdrawn_by_subject": "l'hai ritirata tu",
}


async def privacy_request_decided(
    actor: Principal, *, request_id: uuid.UUID, subject_id: uuid.UUID, reason: str | None
) -> None:
    """The request is no longer waiting: the UdP's notices of it are resolved; a declined
    one is told to the volunteer with the reason (an executed one closed the account)."""
    await resolve(actor.ambito_id, f"privacy:{request_id}", [EventType.PRIVACY_REQUEST_RECEIVED])
    if reason is None:
        return
    await announce(
        actor,
        EventType.PRIVACY_REQUEST_DECLINED,
        users=[subject_id],
        title="Richiesta di cancellazione respinta",
        body=(
            "L'Ufficio di Piano non ha eseguito la tua richiesta di cancellazione: "
            f"{DECLINE_REASONS[reason]}. Puoi chiedere chiarimenti all'Ufficio di Piano o "
            "al Responsabile della protezione dei dati."
        ),
        link="#/privacy",
        subject=f"privacy:{request_id}",
        data={"request_id": str(request_id), "reason": reason},
    )
