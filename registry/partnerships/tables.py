"""Co-design projects and patti di collaborazione (issue 16): partners and parties, what each
commits, the timeline, periodic reports, and the ledger entries given under a commitment.

Procedures and proposals live in registry/coprogramming: plain UUIDs here, checked by the
service (the contributions domain does the same for plans). Ledger entries stay in the one
ledger (registry/contributions); `CommitmentEntry` links an entry to the commitment it was
given under, so the contributions domain's tables are not changed.
"""

from piccolo.columns import JSON, UUID, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.contributions.tables import Contribution
from registry.holders.tables import Holder
from registry.resources.tables import Resource
from registry.users.tables import User


class CodesignProject(Table, tablename="codesign_project"):
    """A co-design (co-progettazione) project, usually born from a co-programming proposal."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    procedure_id = UUID(null=True, default=None, index=True)
    proposal_id = UUID(null=True, default=None, index=True)
    status = Varchar(length=16, default="active")  # active | closed | cancelled
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CodesignPartner(Table, tablename="codesign_partner"):
    id = UUID(primary_key=True)
    project = ForeignKey(CodesignProject, null=False, on_delete=OnDelete.cascade, index=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict, index=True)
    role = Varchar(length=16, default="partner")  # lead | partner
    joined_on = Date()


class CodesignMilestone(Table, tablename="codesign_milestone"):
    """A step of the project's timeline."""

    id = UUID(primary_key=True)
    project = ForeignKey(CodesignProject, null=False, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    due_on = Date()
    done_on = Date(null=True, default=None)
    note = Text(default="")


class Patto(Table, tablename="patto"):
    """A patto di collaborazione for one period. A renewal is a new row whose `renews` names
    the period it continues (at most one renewal per period: unique)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=200)
    object = Text(default="")
    public_party = Varchar(length=8)  # comune | ambito
    comune = Varchar(length=6, null=True, default=None)  # the comune when it is the party
    starts_on = Date()
    ends_on = Date()
    status = Varchar(length=16, default="active")  # active | renewed | closed | terminated
    report_every_months = Integer(default=6)
    renews = ForeignKey("self", null=True, default=None, on_delete=OnDelete.restrict, unique=True)
    # The end of the reporting period the UdP was last told is due (told once per period).
    report_notified_for = Date(null=True, default=None)
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class PattoParty(Table, tablename="patto_party"):
    """A community holder (an informal group is a holder of kind informal_network) party to
    a patto; the public side is the patto's `public_party`."""

    id = UUID(primary_key=True)
    patto = ForeignKey(Patto, null=False, on_delete=OnDelete.cascade, index=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict, index=True)


class Commitment(Table, tablename="partnership_commitment"):
    """What one side commits under a co-design project or a patto (exactly one of the two).
    `holder` null: the public side (comune or ambito), which gives nothing to the ledger."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    project = ForeignKey(
        CodesignProject, null=True, default=None, on_delete=OnDelete.cascade, index=True
    )
    patto = ForeignKey(Patto, null=True, default=None, on_delete=OnDelete.cascade, index=True)
    holder = ForeignKey(Holder, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    description = Varchar(length=500)
    unit = Varchar(length=16, null=True, default=None)  # ContributionUnit, or null: not counted
    # Minutes for time units, a count for the others (as in the ledger).
    quantity = Integer(null=True, default=None)
    resource = ForeignKey(Resource, null=True, default=None, on_delete=OnDelete.restrict)
    due_by = Date(null=True, default=None)
    created_at = Timestamptz()


class CommitmentEntry(Table, tablename="commitment_entry"):
    """A ledger entry given under a commitment (the original entry; its corrections follow
    it through `contribution.corrects`)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    commitment = ForeignKey(Commitment, null=False, on_delete=OnDelete.restrict, index=True)
    contribution = ForeignKey(Contribution, null=False, on_delete=OnDelete.restrict, unique=True)


class PattoReport(Table, tablename="patto_report"):
    """A periodic report of a patto: the parties' text and the ledger's figures for the
    period as they were when the report was written (kept as written)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    patto = ForeignKey(Patto, null=False, on_delete=OnDelete.cascade, index=True)
    period_start = Date()
    period_end = Date()
    text = Text(default="")
    figures = JSON(default="{}")
    created_by = ForeignKey(User, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
