"""The Piccolo app: every table of the registry and the folder of its migrations."""

import os

from piccolo.conf.apps import AppConfig

from registry.ambiti.tables import Ambito, Comune, ComuneMembership, PlatformAdmin
from registry.audit.tables import AccessLog
from registry.checkin.tables import CheckIn, CheckInCode
from registry.contributions.tables import (
    ActivityOrganiser,
    CommunityActivity,
    Contribution,
    ContributionConfirmation,
)
from registry.coprogramming.tables import (
    Application,
    Attendance,
    Minutes,
    Objective,
    ObjectiveLink,
    Participant,
    Procedure,
    ProcedureSession,
    SummaryDocument,
    TableContribution,
    WorkingTable,
)
from registry.freshness.tables import CandidateNotice, ReconfirmLink, WindowExpiryNotice
from registry.holders.tables import Holder
from registry.interop.tables import ExternalLink, FeedToken, ForeignAddress
from registry.interventions.tables import FundedIntervention
from registry.jobs import SchedulerJob
from registry.matches.tables import Match, MatchEvent, MatchingRun, ResourceCapacity, RunPair
from registry.metrics.tables import (
    Interaction,
    InteractionParticipant,
    MetricsMonthFacts,
    MetricsSnapshot,
    TaskLevelOverride,
    ValueRate,
)
from registry.notifications.tables import (
    Notification,
    NotificationSettings,
    OutboxMessage,
    WebhookEndpoint,
)
from registry.ops.lease import Lease
from registry.outcomes.tables import (
    Activation,
    OwnResource,
    PlanClosure,
    PlanFollowUp,
    PlanGoal,
    PlanReview,
    ReviewLevel,
)
from registry.partnerships.tables import (
    CodesignMilestone,
    CodesignPartner,
    CodesignProject,
    Commitment,
    CommitmentEntry,
    Patto,
    PattoParty,
    PattoReport,
)
from registry.plans.tables import Need, Plan
from registry.privacy.tables import PrivacyEvent, PrivacyRequest, RetentionSetting
from registry.region.tables import RegionalObserver
from registry.resources.tables import AvailabilityWindow, Resource
from registry.scheduled_jobs import JobRun
from registry.taxonomy.tables import TaxonomyTerm
from registry.users.tables import LoginFailure, LoginThrottle, User

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[
        Ambito,
        Comune,
        ComuneMembership,  # issue 14
        PlatformAdmin,
        RegionalObserver,  # issue 13: a Region comparing its ambiti
        TaxonomyTerm,
        Holder,
        User,
        LoginThrottle,  # issue 12: login throttling and the failures the UdP reads
        LoginFailure,
        Resource,
        AvailabilityWindow,
        # contributions, check-in, funded interventions (issue 4)
        CommunityActivity,
        ActivityOrganiser,
        Contribution,
        ContributionConfirmation,
        CheckIn,
        CheckInCode,
        FundedIntervention,
        # personalised plans, matches, matching runs, access log (issue 3)
        Plan,
        Need,
        MatchingRun,
        Match,
        MatchEvent,
        ResourceCapacity,
        RunPair,
        AccessLog,
        # HSDS identifiers of imported records, calendar-feed tokens (issue 8)
        ExternalLink,
        ForeignAddress,
        FeedToken,
        # scheduled jobs, freshness, notifications and their outbox (issue 6)
        SchedulerJob,
        JobRun,
        Lease,  # issue 14: the scheduler lease
        WebhookEndpoint,
        OutboxMessage,
        Notification,
        NotificationSettings,
        ReconfirmLink,
        CandidateNotice,
        WindowExpiryNotice,
        # metrics: value rates, interactions, period snapshots (issue 5)
        ValueRate,
        TaskLevelOverride,
        Interaction,
        InteractionParticipant,
        MetricsSnapshot,
        MetricsMonthFacts,  # the ledger's month facts (issue 13)
        # co-programming procedures, art. 55 CTS (issue 16)
        Procedure,
        Application,
        Participant,
        ProcedureSession,
        WorkingTable,
        Attendance,
        TableContribution,
        Minutes,
        SummaryDocument,
        Objective,
        ObjectiveLink,
        # what changes for the person: GAS goals, reviews, closure, own resources (issue 15)
        PlanGoal,
        PlanFollowUp,
        PlanReview,
        ReviewLevel,
        PlanClosure,
        OwnResource,
        Activation,
        # retention, data subjects' requests and their execution log (issue 19)
        RetentionSetting,
        PrivacyRequest,
        PrivacyEvent,
        # co-design projects and patti di collaborazione, their commitments (issue 16)
        CodesignProject,
        CodesignPartner,
        CodesignMilestone,
        Patto,
        PattoParty,
        Commitment,
        CommitmentEntry,
        PattoReport,
    ],
    migration_dependencies=[],
    commands=[],
)
