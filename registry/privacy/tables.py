from piccolo.columns import JSON, UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.users.tables import User


class RetentionSetting(Table, tablename="privacy_retention"):
    """The UdP's own retention period for one kind of record; no row: the default in
    registry/privacy/retention.py. One row per (ambito, kind), kept so by the service."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=32)
    days = Integer()
    updated_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    updated_at = Timestamptz()


class PrivacyRequest(Table, tablename="privacy_request"):
    """A data subject's request (GDPR art. 15, 17, 20, consent withdrawal) and its execution.

    Never holds the erased data: the subject is a plain id (a user, holder or plan id, which
    after an erasure identifies no one) and `outcome` holds counts only."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=32, index=True)  # access | erasure | plan_erasure | consent_withdrawal
    subject_kind = Varchar(length=16)  # user | holder | holder_contact | plan
    subject_id = UUID(index=True)
    channel = Varchar(length=16)  # app | paper
    # A protocol number or similar reference of the UdP, never the person's name.
    reference = Varchar(length=100, default="")
    status = Varchar(length=16, default="executed")
    requested_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    requested_by_role = Varchar(length=32)
    received_at = Timestamptz(index=True)
    executed_at = Timestamptz(null=True, default=None)
    outcome = JSON(default="{}")


class PrivacyEvent(Table, tablename="privacy_event"):
    """The execution log: each erasure, export and retention run, with counts only."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    request = ForeignKey(PrivacyRequest, null=True, default=None, on_delete=OnDelete.restrict)
    at = Timestamptz(index=True)
    action = Varchar(length=32)  # retention | erasure | plan_erasure | access_export | ...
    # None: the scheduled job.
    actor = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
    summary = JSON(default="{}")
