from piccolo.columns import UUID, Date, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.contributions.tables import CommunityActivity, Contribution
from registry.holders.tables import Holder
from registry.resources.tables import Resource
from registry.users.tables import User


class CheckIn(Table, tablename="checkin"):
    """A volunteer's presence measured with a QR code: opened by check-in, closed once by
    check-out, which writes the qr_verified ledger entry. One per volunteer, QR token and
    day (unique index in the migration), so a token cannot be replayed to create duplicates."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    volunteer = ForeignKey(User, null=False, on_delete=OnDelete.restrict, index=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict)
    activity = ForeignKey(CommunityActivity, null=True, default=None, on_delete=OnDelete.restrict)
    match_id = UUID(null=True, default=None)
    resource = ForeignKey(Resource, null=True, default=None, on_delete=OnDelete.restrict)
    token_id = Varchar(length=64)
    day = Date()
    # The token's validity window, kept so check-out can cap the time after the token expired.
    window_start = Timestamptz()
    window_end = Timestamptz()
    checked_in_at = Timestamptz()
    checked_out_at = Timestamptz(null=True, default=None)
    contribution = ForeignKey(Contribution, null=True, default=None, on_delete=OnDelete.restrict)


class CheckInCode(Table, tablename="checkin_code"):
    """A QR code as it was issued, so it can be listed, reprinted and revoked later.

    The token is kept because it is what the printed QR encodes: reprinting must give the very
    same URL. It is a capability only for checking in (and for the public images of itself),
    and is shown only to the users who could have issued the code. New tokens carry this
    row's id (claim `cid`); check-in looks the row up and refuses a revoked code."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    # Whose volunteers check in with it.
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict, index=True)
    activity = ForeignKey(CommunityActivity, null=True, default=None, on_delete=OnDelete.restrict)
    # A match and its plan are plain UUIDs, like the ledger's: the plans domain is optional.
    # The plan is kept so a social worker's list filters by its plans without a join.
    match_id = UUID(null=True, default=None)
    plan_id = UUID(null=True, default=None, index=True)
    resource = ForeignKey(Resource, null=True, default=None, on_delete=OnDelete.restrict)
    title = Varchar(length=300)
    token = Text()
    valid_from = Timestamptz()
    valid_until = Timestamptz()
    issued_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    issued_by_role = Varchar(length=32)
    issued_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.restrict)
