from piccolo.columns import UUID, Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.resources.tables import AvailabilityWindow, Resource
from registry.users.tables import User


class ReconfirmLink(Table, tablename="reconfirm_link"):
    """A signed single-use reconfirmation link that was sent out, by its token id (jti).

    The token itself is never stored: only its id, to refuse a second use and to know a
    reminder was already sent since the last confirmation.
    """

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    resource = ForeignKey(Resource, null=False, on_delete=OnDelete.cascade, index=True)
    jti = Varchar(length=64, unique=True)
    reason = Varchar(length=16)  # reminder | stale
    issued_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    used_action = Varchar(length=16, default="")  # confirm | pause


class CandidateNotice(Table, tablename="candidate_notice"):
    """A (need, resource) pair a social worker was already told about: told once only."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    # No foreign key to the need: plans are another domain; the key below is what matters.
    need_id = UUID(index=True)
    resource = ForeignKey(Resource, null=False, on_delete=OnDelete.cascade, index=True)
    social_worker = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    pair_key = Varchar(length=80, unique=True)  # "<need_id>:<resource_id>"
    notified_at = Timestamptz()


class WindowExpiryNotice(Table, tablename="window_expiry_notice"):
    """An availability window whose validity ended and whose holder was told so.

    A window's expiry is derived from its own `valid_until` (an expired window yields no
    slots); this records the announcement, per end date, so extending a window and letting
    it end again announces it again.
    """

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    window = ForeignKey(AvailabilityWindow, null=False, on_delete=OnDelete.cascade, index=True)
    valid_until = Date()
    notice_key = Varchar(length=60, unique=True)  # "<window_id>:<valid_until>"
    notified_at = Timestamptz()
