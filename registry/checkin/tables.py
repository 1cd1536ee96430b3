from piccolo.columns import UUID, Date, ForeignKey, Timestamptz, Varchar
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
