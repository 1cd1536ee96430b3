from piccolo.columns import UUID, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.holders.tables import Holder
from registry.users.tables import User


class ExternalLink(Table, tablename="interop_external_link"):
    """An identifier another system gave to one of our records (HSDS import).

    Re-importing the same data finds its records here first, so it creates no duplicates;
    one (ambito, entity, external_id) maps to one local record.
    """

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    entity = Varchar(length=32)  # organization | service | schedule
    external_id = Varchar(length=200, index=True)
    local_id = UUID(index=True)
    source = Varchar(length=300, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ForeignAddress(Table, tablename="interop_foreign_address"):
    """An address outside Italy that an HSDS import gave a holder, field by field.

    A holder keeps one address line and a seat comune, which cannot say a foreign city,
    postal code or country: the import writes the whole address in that line and keeps the
    parts here, and the export gives them back (instead of the ambito's region and "IT")
    while the holder's address is still `address_line`.
    """

    id = UUID(primary_key=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.cascade, unique=True)
    address_line = Varchar(length=300)
    address_1 = Varchar(length=300, default="")
    address_2 = Varchar(length=300, default="")
    city = Varchar(length=100, default="")
    state_province = Varchar(length=100, default="")
    postal_code = Varchar(length=32, default="")
    country = Varchar(length=2)
    updated_at = Timestamptz()


class FeedToken(Table, tablename="interop_feed_token"):
    """A secret calendar-feed URL; only the SHA-256 of the token is stored.

    kind "holder": the holder's availability and accepted matches; kind "volunteer": the
    commitments of the user's own holder. Revoking sets revoked_at; the URL then answers 404.
    """

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)
    holder = ForeignKey(Holder, null=True, default=None, on_delete=OnDelete.cascade)
    user = ForeignKey(User, null=True, default=None, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True)
    label = Varchar(length=100, default="")
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
