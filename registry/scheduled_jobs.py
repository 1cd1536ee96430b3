"""The scheduled jobs: what each one does and when (`JOBS`), and one run of one, recorded in
`job_run`.

Every job is idempotent and takes the clock as a parameter (`now`), so the CLI
(`registry jobs run NAME --now ...`), the tests and the scheduler (registry/jobs.py) run the
same code. A job's scope is every active ambito, or those named (CLI --ambito, tests).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from piccolo.columns import JSON, UUID, Text, Timestamptz, Varchar
from piccolo.table import Table

from registry.common import now as utcnow
from registry.config import Settings

log = logging.getLogger("registry.jobs")


# --- tables --------------------------------------------------------------------------------
# System-wide, not per ambito: one schedule serves every ambito of the installation.


class JobRun(Table, tablename="job_run"):
    """One run of one job: what the operator reads to see what happened."""

    id = UUID(primary_key=True)
    job = Varchar(length=64, index=True)
    trigger = Varchar(length=16)  # schedule | cli | test
    clock = Timestamptz()  # the `now` the job ran with
    started_at = Timestamptz(index=True)
    finished_at = Timestamptz(null=True, default=None)
    status = Varchar(length=16)  # running | ok | failed
    summary = JSON(default="{}")
    error = Text(default="")


# None: every ambito (what the scheduler runs); a list: only those (CLI --ambito, tests).
Scope = Sequence[uuid.UUID] | None

# --- the jobs ------------------------------------------------------------------------------


async def in_service(scope: Scope) -> list[uuid.UUID]:
    """The ambiti of `scope` (every one when None) that are active: a deactivated or merged
    ambito gets no reminders, expiries, re-matching or snapshots."""
    from registry.ambiti.tables import Ambito

    if scope is not None and not scope:
        return []
    query = Ambito.select(Ambito.id).where(Ambito.active == True)  # noqa: E712
    if scope is not None:
        query = query.where(Ambito.id.is_in(list(scope)))
    return [row["id"] for row in await query]


NONE_IN_SERVICE: dict[str, Any] = {"skipped": "no active ambito"}


async def _freshness(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    from registry.freshness.service import run_freshness

    if not (active := await in_service(scope)):
        return NONE_IN_SERVICE
    return await run_freshness(now, settings, active)


async def _expiry(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    from registry.freshness.service import run_expiry

    if not (active := await in_service(scope)):
        return NONE_IN_SERVICE
    return await run_expiry(now, settings, active)


async def _rematch(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    from registry.freshness.rematch import run_rematch

    if not (active := await in_service(scope)):
        return NONE_IN_SERVICE
    since = await rematch_watermark(now, settings)
    return await run_rematch(now, settings, since=since, ambito_ids=active)


async def rematch_watermark(now: datetime, settings: Settings) -> datetime:
    """Resources confirmed after the last successful scheduled run's clock are new.

    Only the scheduler's own runs move it: a run from the CLI (perhaps for one ambito) must
    not make the next scheduled run skip the other ambiti. Repeats are harmless anyway:
    each (need, resource) pair is told once.
    """
    row = (
        await JobRun.select(JobRun.clock)
        .where(
            (JobRun.job == "rematch")
            & (JobRun.status == "ok")
            & (JobRun.trigger == "schedule")
            & (JobRun.clock <= now)
        )
        .order_by(JobRun.clock, ascending=False)
        .first()
    )
    if row is not None:
        return row["clock"]
    return now - timedelta(minutes=settings.rematch_interval_minutes)


async def _dispatch(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    from registry.notifications.dispatcher import Dispatcher

    return (await Dispatcher(settings).run(now, scope)).as_dict()


async def _digest(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    from registry.notifications.mail import send_digests

    if not (active := await in_service(scope)):
        return NONE_IN_SERVICE
    return await send_digests(settings, now, active)


METRICS_SNAPSHOT_MINUTES = 15
# Where the metrics domain is expected to provide its snapshot, once it exists.
METRICS_HOOK = "registry.metrics.snapshot:take_snapshot"


async def _metrics_snapshot(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    import importlib

    module_name, _, attribute = METRICS_HOOK.partition(":")
    try:
        take_snapshot = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        return {"skipped": f"{METRICS_HOOK} does not exist yet"}
    # Only ambiti whose data changed since their snapshots (or whose snapshots are a day old):
    # the dashboard then serves changes within minutes, without recomputing idle ambiti.
    if not (active := await in_service(scope)):
        return NONE_IN_SERVICE
    result = await take_snapshot(now, ambito_ids=active, only_changed=True)
    return result if isinstance(result, dict) else {"result": str(result)}


async def _retention(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    from registry.privacy.retention import apply_retention

    # Deactivated ambiti too: their records are kept, but personal data must still expire.
    return await apply_retention(now, await _all_ambiti(scope))


async def _all_ambiti(scope: Scope) -> list[uuid.UUID]:
    from registry.ambiti.tables import Ambito

    if scope is not None:
        return list(scope)
    return [row["id"] for row in await Ambito.select(Ambito.id)]


async def _review_overdue(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    from registry.outcomes.follow_up import notify_overdue_reviews

    if not (active := await in_service(scope)):
        return NONE_IN_SERVICE
    return await notify_overdue_reviews(now, active)


async def _patto_reports(now: datetime, settings: Settings, scope: Scope) -> dict[str, Any]:
    from registry.partnerships.patto_reports import notify_due_reports

    if not (active := await in_service(scope)):
        return NONE_IN_SERVICE
    return await notify_due_reports(now, active)


@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    description: str
    trigger: Callable[[Settings], BaseTrigger]
    run: Callable[[datetime, Settings, Scope], Awaitable[dict[str, Any]]]
    # The dispatcher runs every few seconds: only runs that did something are recorded.
    record_idle: bool = True


def _daily(hour: int, minute: int) -> Callable[[Settings], BaseTrigger]:
    return lambda s: CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(s.timezone))


JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "freshness",
            "reminders after N days without confirmation, stale after M days",
            _daily(6, 0),
            _freshness,
        ),
        JobSpec(
            "expiry",
            "resources and availability windows past their validity",
            _daily(0, 15),
            _expiry,
        ),
        JobSpec(
            "rematch",
            "open needs with new candidates: tell their social worker",
            lambda s: IntervalTrigger(
                minutes=s.rematch_interval_minutes, timezone=ZoneInfo(s.timezone)
            ),
            _rematch,
        ),
        JobSpec(
            "dispatch",
            "deliver the outbox (webhooks, e-mail)",
            lambda s: IntervalTrigger(
                seconds=s.dispatch_interval_seconds, timezone=ZoneInfo(s.timezone)
            ),
            _dispatch,
            record_idle=False,
        ),
        JobSpec(
            "digest",
            "the daily e-mail digest of the notifications users chose to get that way",
            _daily(7, 0),
            _digest,
        ),
        JobSpec(
            "metrics_snapshot",
            "period snapshots of the metrics, so the dashboard does not scan the ledger",
            lambda s: IntervalTrigger(
                minutes=METRICS_SNAPSHOT_MINUTES, timezone=ZoneInfo(s.timezone)
            ),
            _metrics_snapshot,
        ),
        JobSpec(
            "retention",
            "personal data past its retention period: removed or pseudonymised (issue 19)",
            _daily(3, 30),
            _retention,
        ),
        JobSpec(
            "review_overdue",
            "plans whose review is past due: tell their social workers (once per due date)",
            _daily(6, 30),
            _review_overdue,
        ),
        JobSpec(
            "patto_reports",
            "patti whose reporting period ended without a report: tell the UdP (once per period)",
            _daily(6, 45),
            _patto_reports,
        ),
    )
}


def describe(trigger: BaseTrigger) -> str:
    """A stable text for a trigger: shown by `jobs list`, compared to detect a changed schedule."""
    if isinstance(trigger, IntervalTrigger):
        seconds = int(trigger.interval.total_seconds())
        return f"every {seconds // 60} min" if seconds % 60 == 0 else f"every {seconds} s"
    if isinstance(trigger, CronTrigger):
        fields = {f.name: str(f) for f in trigger.fields if not f.is_default}
        if set(fields) == {"hour", "minute"}:
            return f"daily {int(fields['hour']):02d}:{int(fields['minute']):02d} {trigger.timezone}"
        return f"{trigger} {trigger.timezone}"
    return str(trigger)


class UnknownJob(KeyError):
    pass


class JobRunOut(msgspec.Struct, kw_only=True):
    job: str
    trigger: str
    clock: datetime
    started_at: datetime
    finished_at: datetime | None
    status: str
    summary: dict[str, Any]
    error: str


async def run_job(
    name: str,
    settings: Settings,
    *,
    now: datetime | None = None,
    trigger: str = "cli",
    ambito_ids: Scope = None,
) -> JobRunOut:
    """Run one job now (or at a given clock), record the run, never raise the job's error."""
    spec = JOBS.get(name)
    if spec is None:
        raise UnknownJob(name)
    moment = now or utcnow()
    run = JobRun(
        job=name, trigger=trigger, clock=moment, started_at=utcnow(), status="running", summary="{}"
    )
    if spec.record_idle:
        await run.save()  # a run that dies half-way stays visible as "running"
    summary: dict[str, Any] = {}
    try:
        summary = await spec.run(moment, settings, ambito_ids)
        run.status = "ok"
    except Exception as error:
        log.exception("job %s failed", name)
        run.status = "failed"
        run.error = f"{type(error).__name__}: {error}"[:2000]
    run.finished_at = utcnow()
    run.summary = msgspec.json.encode(summary).decode()
    idle = run.status == "ok" and not any(v for v in summary.values() if isinstance(v, int))
    if spec.record_idle or not idle:
        await run.save()
    if run.status == "ok":
        log.info("job %s done: %s", name, summary)
    return JobRunOut(
        job=name,
        trigger=trigger,
        clock=moment,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        summary=summary,
        error=run.error,
    )


async def ambito_ids(codes: Sequence[str]) -> list[uuid.UUID]:
    """The ids of these ambiti (a job's scope given by code, as on the command line)."""
    from registry.ambiti.tables import Ambito
    from registry.errors import NotFound

    rows = await Ambito.select(Ambito.id, Ambito.code).where(Ambito.code.is_in(list(codes)))
    found = {row["code"]: row["id"] for row in rows}
    missing = [code for code in codes if code not in found]
    if missing:
        raise NotFound(f"no ambito with code {', '.join(repr(c) for c in missing)}", field="ambito")
    return [found[code] for code in codes]
