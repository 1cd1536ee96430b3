"""Co-programming and co-design procedures under art. 55 of the Codice del Terzo Settore
(issue 16; guidelines DM 72/2021): the notice, the organisations taking part and their people,
sessions split into working tables, the four guiding questions answered per table, minutes
with frozen approved versions, the summary document and the Piano objectives.

Every row carries its `ambito` so each query filters by it directly (CONVENTIONS.md)."""

from piccolo.columns import JSON, UUID, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.ambiti.tables import Ambito
from registry.holders.tables import Holder
from registry.resources.tables import Resource
from registry.users.tables import User


class Procedure(Table, tablename="coprog_procedure"):
    """A co-programming (or co-design) procedure of an ambito, opened by a public notice."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=32)  # ProcedureKind
    title = Varchar(length=300)
    description = Text(default="")
    # The public notice (avviso) and its dates.
    notice_text = Text(default="")
    notice_url = Varchar(length=500, default="")
    notice_published_on = Date(null=True, default=None)
    applications_close_on = Date(null=True, default=None)
    piano_period = Varchar(length=32, default="")  # e.g. "2025-2027"
    status = Varchar(length=16, default="draft", index=True)  # ProcedureStatus
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Application(Table, tablename="coprog_application"):
    """An organisation (a registered holder) taking part in a procedure."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    procedure = ForeignKey(Procedure, null=False, on_delete=OnDelete.cascade, index=True)
    holder = ForeignKey(Holder, null=False, on_delete=OnDelete.restrict, index=True)
    status = Varchar(length=16, default="submitted")  # ApplicationStatus
    note = Text(default="")
    applied_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)


class Participant(Table, tablename="coprog_participant"):
    """A person an organisation names: a name, a role, an optional contact; nothing more.
    Seen only by the UdP and the organisation's own manager; public figures count them."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    application = ForeignKey(Application, null=False, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=200)
    role = Varchar(length=32)  # ParticipantRole
    contact = Varchar(length=200, null=True, default=None)


class ProcedureSession(Table, tablename="coprog_session"):
    """One meeting of the calendar (introductory, thematic, concluding)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    procedure = ForeignKey(Procedure, null=False, on_delete=OnDelete.cascade, index=True)
    number = Integer()  # order in the calendar, 1-based
    kind = Varchar(length=16)  # SessionKind
    title = Varchar(length=300)
    theme = Varchar(length=300, default="")
    starts_at = Timestamptz()
    place = Varchar(length=300, default="")
    agenda = Text(default="")
    created_at = Timestamptz()


class WorkingTable(Table, tablename="coprog_table"):
    """A tavolo of a session: its theme and its spokesperson (a named participant)."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    session = ForeignKey(ProcedureSession, null=False, on_delete=OnDelete.cascade, index=True)
    theme = Varchar(length=300)
    spokesperson = ForeignKey(Participant, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


class Attendance(Table, tablename="coprog_attendance"):
    """An organisation present at a session (at one of its tables, if given), with how many
    people it brought. One row per (session, application): see the unique index."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    session = ForeignKey(ProcedureSession, null=False, on_delete=OnDelete.cascade, index=True)
    application = ForeignKey(Application, null=False, on_delete=OnDelete.cascade, index=True)
    working_table = ForeignKey(WorkingTable, null=True, default=None, on_delete=OnDelete.set_null)
    people = Integer(default=1)
    recorded_at = Timestamptz()


class TableContribution(Table, tablename="coprog_contribution"):
    """One answer to one of the four guiding questions at a table. Those answering the
    `proposals` question are the proposals objectives and co-design projects link to."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    working_table = ForeignKey(WorkingTable, null=False, on_delete=OnDelete.cascade, index=True)
    question = Varchar(length=32, index=True)  # GuidingQuestion
    text = Text()
    # The organisation that said it (null: recorded by the UdP for the table as a whole).
    holder = ForeignKey(Holder, null=True, default=None, on_delete=OnDelete.set_null)
    # "existing resources" answers may point to a resource of the registry (same ambito).
    resource = ForeignKey(Resource, null=True, default=None, on_delete=OnDelete.set_null)
    category_code = Varchar(length=64, null=True, default=None)
    created_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Minutes(Table, tablename="coprog_minutes"):
    """A version of the minutes (verbale) of a session. Approval freezes a version (content
    hash, approver, time); a later change is version n+1 as a draft, n stays as approved."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    session = ForeignKey(ProcedureSession, null=False, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    status = Varchar(length=16, default="draft")  # DocumentStatus
    content = Text()
    content_hash = Varchar(length=64, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    approved_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class SummaryDocument(Table, tablename="coprog_summary"):
    """The documento istruttorio di sintesi, assembled from the approved minutes only;
    versioned and frozen like the minutes. `sources` lists the minutes versions it used."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    procedure = ForeignKey(Procedure, null=False, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    status = Varchar(length=16, default="draft")  # DocumentStatus
    content = Text()
    sources = JSON(default="[]")
    content_hash = Varchar(length=64, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    approved_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Objective(Table, tablename="coprog_objective"):
    """An objective of the Piano di Zona adopted by the UdP, linked to what it comes from."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    procedure = ForeignKey(Procedure, null=False, on_delete=OnDelete.cascade, index=True)
    code = Varchar(length=32, default="")
    title = Varchar(length=300)
    description = Text(default="")
    area = Varchar(length=32, null=True, default=None)  # UserArea
    adopted_on = Date(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ObjectiveLink(Table, tablename="coprog_objective_link"):
    """An objective comes from a proposal (a table contribution) or from a session."""

    id = UUID(primary_key=True)
    ambito = ForeignKey(Ambito, null=False, on_delete=OnDelete.restrict, index=True)
    objective = ForeignKey(Objective, null=False, on_delete=OnDelete.cascade, index=True)
    proposal = ForeignKey(
        TableContribution, null=True, default=None, on_delete=OnDelete.cascade, index=True
    )
    session = ForeignKey(
        ProcedureSession, null=True, default=None, on_delete=OnDelete.cascade, index=True
    )
