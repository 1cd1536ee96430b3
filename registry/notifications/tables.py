from piccolo.columns import (
    UUID,
    Array,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.users.tables import User


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    """Where the UdP wants the ambito's events delivered (its own systems, a mailing tool...)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    url = Varchar(length=500)
    description = Varchar(length=200, default="")
    # Event types this endpoint wants; empty means every event of the ambito.
    events = Array(base_column=Varchar(length=64))
    # The HMAC key receivers verify the signature with; it must be readable to sign.
    secret = Varchar(length=128, secret=True)
    active = Boolean(default=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class OutboxMessage(Table, tablename="outbox_message"):
    """One delivery of one event to one target, written in the event's own transaction.

    The dispatcher claims rows with a lease (`locked_until`/`locked_by`), so several
    dispatchers never send the same row at once, and a dead dispatcher's claims expire.
    """

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    event_id = UUID(index=True)
    event_type = Varchar(length=64)
    channel = Varchar(length=16)  # webhook | email
    # Set null when the endpoint is removed: the message stays as history and goes dead.
    endpoint = ForeignKey(
        WebhookEndpoint, null=True, default=None, on_delete=OnDelete.set_null, index=True
    )
    recipient = Varchar(length=320, default="")  # the address, for email
    subject = Varchar(length=300, default="")
    body = Text()  # the exact bytes sent (JSON for webhooks): the signature covers them
    status = Varchar(length=16, default="pending", index=True)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(index=True)
    locked_until = Timestamptz(null=True, default=None)
    locked_by = Varchar(length=100, null=True, default=None)
    last_error = Text(default="")
    last_status_code = Integer(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)


class Notification(Table, tablename="notification"):
    """An in-app notification for one user."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    event_id = UUID()
    event_type = Varchar(length=64)
    title = Varchar(length=300)
    body = Text(default="")
    link = Varchar(length=1000, default="")
    created_at = Timestamptz(index=True)
    read_at = Timestamptz(null=True, default=None)
    # What the notification is about ("match:<id>"...): once the step it asks for is done,
    # the notifications of that subject that asked for it are marked read for everyone.
    subject = Varchar(length=100, default="", index=True)
    # "now" / "digest" while an e-mail is owed (the recipient's preferences at the event).
    email_due = Varchar(length=8, default="", index=True)
    emailed_at = Timestamptz(null=True, default=None)


class NotificationSettings(Table, tablename="notification_settings"):
    """One user's e-mail choices: the address, which events arrive by e-mail, and whether
    they come one by one or as one daily digest. No row: no e-mail."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, unique=True, on_delete=OnDelete.cascade)
    email = Varchar(length=320, default="")
    email_events = Array(base_column=Varchar(length=64))
    digest = Boolean(default=False)
    updated_at = Timestamptz()
