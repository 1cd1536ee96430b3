"""Access and portability (GDPR art. 15 and 20): everything the registry holds about one user,
as JSON (machine-readable, art. 20) and as a readable Italian summary (art. 15).

`collect` reads the rows (async, the database); `summary_text` is pure and runs in a worker
process. Other people's data is left out: a match names the resource and its status, never
the plan or the person it helps.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from registry.checkin.tables import CheckIn
from registry.contributions.tables import Contribution
from registry.holders.tables import Holder
from registry.interop.tables import FeedToken
from registry.italian import ROME
from registry.matches.tables import Match
from registry.notifications.tables import Notification, NotificationSettings
from registry.privacy.tables import PrivacyRequest
from registry.users.tables import User

FORMAT_VERSION = 1
# Italian names of the codes the summary shows (the JSON keeps the codes).
ROLE_NAMES = {
    "udp_admin": "Ufficio di Piano",
    "social_worker": "Assistente sociale",
    "holder_manager": "Referente di ente",
    "volunteer": "Volontario/a",
}
CONTACT_NAMES = {"email": "e-mail", "phone": "telefono", "website": "sito", "person": "persona"}
FEED_NAMES = {"holder": "calendario dell'ente", "volunteer": "calendario dei miei impegni"}
REQUEST_NAMES = {
    "access": "accesso ai dati",
    "erasure": "cancellazione",
    "contact_erasure": "cancellazione di un contatto",
    "plan_erasure": "cancellazione del testo di un piano",
    "consent_withdrawal": "revoca del consenso",
}
CHANNEL_NAMES = {"paper": "su carta", "app": "dall'app"}
STATUS_NAMES = {
    "executed": "eseguita",
    "pending": "in attesa dell'Ufficio di Piano",
    "declined": "respinta",
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


async def collect(ambito_id: uuid.UUID, user_id: uuid.UUID, generated_at: datetime) -> dict:
    user = (
        await User.select(
            User.id,
            User.username,
            User.role,
            User.active,
            User.created_at,
            User.holder,
            User.ambito.code.as_alias("ambito_code"),
            User.ambito.name.as_alias("ambito_name"),
        )
        .where((User.id == user_id) & (User.ambito == ambito_id))
        .first()
    )
    if user is None:
        from registry.errors import NotFound

        raise NotFound("no such user")
    holder = None
    if user["holder"] is not None:
        holder = (
            await Holder.select(
                Holder.id,
                Holder.kind,
                Holder.name,
                Holder.description,
                Holder.codice_fiscale,
                Holder.address,
                Holder.comuni,
                Holder.areas,
                Holder.contacts,
                Holder.public_listing,
                Holder.consent_given_by,
                Holder.consent_given_at,
                Holder.consent_text_version,
                Holder.created_at,
            )
            .where(Holder.id == user["holder"])
            .output(load_json=True)
            .first()
        )
    settings = (
        await NotificationSettings.select(
            NotificationSettings.email,
            NotificationSettings.email_events,
            NotificationSettings.digest,
            NotificationSettings.updated_at,
        )
        .where(NotificationSettings.user == user_id)
        .first()
    )
    contributions = (
        await Contribution.select(
            Contribution.id,
            Contribution.holder.name.as_alias("holder_name"),
            Contribution.kind,
            Contribution.unit,
            Contribution.quantity,
            Contribution.value_cents,
            Contribution.occurred_on,
            Contribution.started_at,
            Contribution.ended_at,
            Contribution.comune,
            Contribution.note,
            Contribution.verification,
            Contribution.corrects,
            Contribution.created_at,
        )
        .where(
            (Contribution.ambito == ambito_id)
            & ((Contribution.volunteer == user_id) | (Contribution.created_by == user_id))
        )
        .order_by(Contribution.occurred_on)
        .order_by(Contribution.created_at)
    )
    checkins = (
        await CheckIn.select(
            CheckIn.id,
            CheckIn.holder.name.as_alias("holder_name"),
            CheckIn.day,
            CheckIn.checked_in_at,
            CheckIn.checked_out_at,
        )
        .where(CheckIn.volunteer == user_id)
        .order_by(CheckIn.checked_in_at)
    )
    if holder is not None and holder["kind"] != "individual_volunteer":
        # An organisation the user works for: its card is not the user's personal data, and
        # its contacts are other people's.
        holder = {k: holder[k] for k in ("id", "kind", "name")}
    matches: list[dict[str, Any]] = []
    if holder is not None and holder["kind"] == "individual_volunteer":
        matches = (
            await Match.select(
                Match.id,
                Match.resource.title.as_alias("resource_title"),
                Match.status,
                Match.created_at,
                Match.updated_at,
            )
            .where(Match.holder == holder["id"])
            .order_by(Match.created_at)
        )
    notifications = (
        await Notification.select(
            Notification.event_type,
            Notification.title,
            Notification.body,
            Notification.created_at,
            Notification.read_at,
        )
        .where(Notification.user == user_id)
        .order_by(Notification.created_at)
    )
    feeds = await FeedToken.select(
        FeedToken.kind,
        FeedToken.label,
        FeedToken.created_at,
        FeedToken.revoked_at,
        FeedToken.last_used_at,
    ).where((FeedToken.user == user_id) | (FeedToken.created_by == user_id))
    requests = (
        await PrivacyRequest.select(
            PrivacyRequest.kind,
            PrivacyRequest.channel,
            PrivacyRequest.received_at,
            PrivacyRequest.executed_at,
            PrivacyRequest.status,
        )
        .where((PrivacyRequest.ambito == ambito_id) & (PrivacyRequest.subject_id == user_id))
        .order_by(PrivacyRequest.received_at)
    )
    return _plain(
        {
            "format": "registro-risorse-comunita/dati-personali",
            "version": FORMAT_VERSION,
            "generated_at": generated_at,
            "controller": {"ambito_code": user["ambito_code"], "ambito": user["ambito_name"]},
            "profile": {
                "user_id": user["id"],
                "username": user["username"],
                "role": user["role"],
                "active": user["active"],
                "created_at": user["created_at"],
            },
            "holder": holder,
            "notification_settings": settings,
            "contributions": contributions,
            "checkins": checkins,
            "matches": matches,
            "notifications": notifications,
            "calendar_feeds": feeds,
            "privacy_requests": requests,
        }
    )


_UNITS = {
    "hours": "ore",
    "room_hours": "ore di spazio",
    "trips": "viaggi",
    "items": "beni",
    "meals": "pasti",
    "people_reached": "persone raggiunte",
}
_STATUS = {
    "proposed": "proposto",
    "accepted": "accettato",
    "active": "attivo",
    "declined": "rifiutato",
    "completed": "concluso",
    "withdrawn": "ritirato",
}


def _local(value: str) -> datetime | None:
    """A stored moment as the clock on the wall in Italy (the summary is read there)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(ROME) if moment.tzinfo else None


def _day(value: str | None) -> str:
    if not value:
        return "—"
    moment = _local(value) if len(value) > 10 else None
    if moment is not None:
        return moment.strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return value


def _time(value: str | None) -> str:
    moment = _local(value) if value else None
    return moment.strftime("%H:%M") if moment else "non registrata"


def _amount(entry: dict[str, Any]) -> str:
    unit = entry["unit"]
    if unit in ("hours", "room_hours"):
        minutes = int(entry["quantity"])
        text = f"{minutes // 60}:{minutes % 60:02d} {_UNITS[unit]}"
    else:
        text = f"{entry['quantity']} {_UNITS.get(unit, unit)}"
    if entry.get("value_cents"):
        euro = f"{entry['value_cents'] / 100:,.2f}".replace(",", "X").replace(".", ",")
        text += f" (valore {euro.replace('X', '.')} €)"
    return text


def summary_text(data: dict[str, Any]) -> str:
    """The readable Italian summary of `collect`'s answer (pure: run in a worker process)."""
    profile = data["profile"]
    lines = [
        "DATI PERSONALI CONSERVATI DAL REGISTRO DELLE RISORSE DI COMUNITÀ",
        f"Titolare del trattamento: {data['controller']['ambito']} "
        f"({data['controller']['ambito_code']})",
        f"Generato il {_day(data['generated_at'])} (art. 15 e 20 del Regolamento UE 2016/679)",
        "",
        "PROFILO",
        f"  Nome utente: {profile['username']}",
        f"  Ruolo: {ROLE_NAMES.get(profile['role'], profile['role'])}",
        f"  Account attivo: {'sì' if profile['active'] else 'no'}",
        f"  Creato il: {_day(profile['created_at'])}",
    ]
    holder = data["holder"]
    if holder and holder["kind"] != "individual_volunteer":
        lines += ["", "ORGANIZZAZIONE PER CUI OPERA", f"  {holder['name']}"]
    elif holder:
        lines += ["", "SCHEDA COME TITOLARE DI RISORSE", f"  Nome: {holder['name']}"]
        if holder.get("address"):
            lines.append(f"  Indirizzo: {holder['address']}")
        if holder.get("codice_fiscale"):
            lines.append(f"  Codice fiscale: {holder['codice_fiscale']}")
        for contact in holder.get("contacts") or []:
            kind = CONTACT_NAMES.get(contact.get("kind", ""), contact.get("kind", ""))
            lines.append(f"  Contatto ({kind}): {contact.get('value', '')}")
        lines.append(
            "  Pubblicata nell'elenco pubblico: " + ("sì" if holder["public_listing"] else "no")
        )
        if holder.get("consent_given_at"):
            lines.append(
                f"  Consenso dato il {_day(holder['consent_given_at'])} "
                f"(testo versione {holder['consent_text_version']})"
            )
    settings = data["notification_settings"]
    lines += ["", "AVVISI PER E-MAIL"]
    if settings and settings.get("email"):
        mode = "riepilogo giornaliero" if settings["digest"] else "uno per uno"
        lines.append(f"  Indirizzo: {settings['email']} ({mode})")
    else:
        lines.append("  Nessun indirizzo registrato")
    entries = data["contributions"]
    lines += ["", f"CONTRIBUTI REGISTRATI ({len(entries)})"]
    for entry in entries:
        kind = {"correction": " [correzione]", "cancellation": " [annullamento]"}.get(
            entry["kind"], ""
        )
        verified = " verificato con QR" if entry["verification"] == "qr_verified" else ""
        lines.append(
            f"  {_day(entry['occurred_on'])}  {entry['holder_name']}: {_amount(entry)}"
            f"{verified}{kind}"
        )
        if entry.get("note"):
            lines.append(f"      nota: {entry['note']}")
    checkins = data["checkins"]
    lines += ["", f"PRESENZE CON QR ({len(checkins)})"]
    for c in checkins:
        lines.append(
            f"  {_day(c['day'])}  {c['holder_name']}: entrata {_time(c['checked_in_at'])}, "
            f"uscita {_time(c.get('checked_out_at'))}"
        )
    matches = data["matches"]
    lines += ["", f"ABBINAMENTI DELLE SUE RISORSE ({len(matches)})"]
    for m in matches:
        lines.append(
            f"  {_day(m['created_at'])}  {m['resource_title']}: "
            f"{_STATUS.get(m['status'], m['status'])}"
        )
    notes = data["notifications"]
    lines += ["", f"NOTIFICHE ({len(notes)})"]
    for n in notes:
        read = "letta" if n.get("read_at") else "da leggere"
        lines.append(f"  {_day(n['created_at'])}  {n['title']} ({read})")
    feeds = data["calendar_feeds"]
    lines += ["", f"CALENDARI COLLEGATI ({len(feeds)})"]
    for f in feeds:
        state = "revocato" if f.get("revoked_at") else "attivo"
        name = f["label"] or FEED_NAMES.get(f["kind"], f["kind"])
        lines.append(f"  {name}: creato il {_day(f['created_at'])}, {state}")
    requests = data["privacy_requests"]
    lines += ["", f"RICHIESTE SUI DATI PERSONALI ({len(requests)})"]
    for r in requests:
        lines.append(
            f"  {_day(r['received_at'])}  {REQUEST_NAMES.get(r['kind'], r['kind'])} "
            f"({CHANNEL_NAMES.get(r['channel'], r['channel'])}): "
            f"{STATUS_NAMES.get(r['status'], r['status'])}"
        )
    lines += [
        "",
        "I dati completi, in formato leggibile da una macchina (JSON), sono nel file che "
        "accompagna questo riepilogo. Per la cancellazione o la rettifica rivolgersi "
        "all'Ufficio di Piano.",
        "",
    ]
    return "\n".join(lines)
